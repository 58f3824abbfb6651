using System.Text;
using Peft.Models;

namespace Peft.Tests.Models;

/// <summary>The retry rules of downloads and metadata requests, with waits recorded instead of slept: an attempt that
/// received bytes resets the count of failures, Retry-After against our backoff, giving up, cancellation.</summary>
public sealed class DownloadRetryTests : ModelTestBase
{
    private static readonly byte[] Content = Checkpoint();
    private static readonly OpenAiClipSource TestModel = new("Test/1", Sha256(Content), "Test-1.pt");

    private string FinalPath => Path.Combine(Root, "openai", "Test-1.pt");

    private static DownloadOptions Options(RecordingTime time, int maxAttempts = 3, TimeSpan? initial = null, TimeSpan? max = null) => new()
    {
        MaxAttempts = maxAttempts,
        InitialBackoff = initial ?? TimeSpan.FromMilliseconds(10),
        MaxBackoff = max ?? TimeSpan.FromMilliseconds(50),
        ResponseTimeout = TimeSpan.FromSeconds(10),
        ReadTimeout = TimeSpan.FromSeconds(10),
        TimeProvider = time,
    };

    private static TestResponse Busy(int status = 503, int? retryAfterSeconds = null)
    {
        var response = TestResponse.Text(status, "busy");
        if (retryAfterSeconds is int s) response.Headers["Retry-After"] = s.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return response;
    }

    [Fact]
    public async Task More_attempts_than_MaxAttempts_succeed_when_each_receives_bytes()
    {
        // Every answer stops after 40 000 bytes: 8 attempts for 300 000 bytes, each one progress.
        var time = new RecordingTime();
        using var server = new TestHttpServer(r => TestResponse.File(r, Content, cutAfter: 40_000));
        using var puller = Puller(openAiBase: server.BaseUrl, options: Options(time));

        await puller.PullOpenAiAsync(TestModel);

        Assert.Equal(Content, File.ReadAllBytes(FinalPath));
        Assert.Equal(8, server.Requests.Count);
        Assert.Equal(Enumerable.Repeat(TimeSpan.FromMilliseconds(10), 7), time.Waits); // the first backoff each time
        Assert.DoesNotContain("failures in a row", Log.ToString());
    }

    [Fact]
    public async Task Progress_resets_the_count_of_failures_in_a_row()
    {
        // Bytes, 500, 500, bytes, 500, 500, 500: only the last three in a row use up MaxAttempts = 3.
        int calls = 0;
        var time = new RecordingTime();
        using var server = new TestHttpServer(r => Interlocked.Increment(ref calls) switch
        {
            1 or 4 => TestResponse.File(r, Content, cutAfter: 30_000),
            _ => TestResponse.Text(500, "broken"),
        });
        using var puller = Puller(openAiBase: server.BaseUrl, options: Options(time));

        var ex = await Assert.ThrowsAsync<ModelDownloadException>(() => puller.PullOpenAiAsync(TestModel));

        Assert.Equal(7, server.Requests.Count);
        Assert.True(ex.IsNetworkError);
        Assert.Contains("failed after 3 attempts without progress", ex.Message);
        Assert.Contains("60000 bytes are kept", ex.Message);
        Assert.Equal(new[] { 10, 10, 20, 10, 10, 20 }.Select(ms => TimeSpan.FromMilliseconds(ms)), time.Waits);
        var log = Log.ToString();
        Assert.Contains("retrying in 0 s from byte 30000.", log);
        Assert.Contains("retrying in 0 s from byte 60000 (2 of 3 failures in a row).", log);
    }

    [Fact]
    public async Task Retry_after_is_honoured_up_to_MaxBackoff_and_our_backoff_is_used_otherwise()
    {
        int calls = 0;
        var time = new RecordingTime();
        using var server = new TestHttpServer(r => Interlocked.Increment(ref calls) switch
        {
            1 => Busy(503, retryAfterSeconds: 7),
            2 => Busy(503, retryAfterSeconds: 120), // longer than MaxBackoff
            3 => Busy(429),
            _ => TestResponse.File(r, Content),
        });
        var options = Options(time, maxAttempts: 5, initial: TimeSpan.FromSeconds(1), max: TimeSpan.FromSeconds(30));
        using var puller = Puller(openAiBase: server.BaseUrl, options: options);

        await puller.PullOpenAiAsync(TestModel);

        Assert.Equal(Content, File.ReadAllBytes(FinalPath));
        Assert.Equal(4, server.Requests.Count);
        Assert.Equal(new[] { 7, 2, 4 }.Select(s => TimeSpan.FromSeconds(s)), time.Waits);
        Assert.Contains("answered 503 Service Unavailable; retrying in 7 s from byte 0 (1 of 5 failures in a row).", Log.ToString());
    }

    [Fact]
    public async Task A_server_that_keeps_rejecting_the_partial_download_is_given_up_on()
    {
        // Every answer is a 206 from the wrong offset, so each attempt discards the partial file and starts over.
        File.WriteAllBytes(Path.Combine(Root, "f.bin.partial"), Content[..1000]);
        var time = new RecordingTime();
        using var server = new TestHttpServer(_ => new TestResponse
        {
            Status = 206,
            Headers = new(StringComparer.OrdinalIgnoreCase) { ["Content-Range"] = $"bytes 5-{Content.Length - 1}/{Content.Length}" },
            Body = Content[5..],
        });
        using var http = ResumableDownloader.CreateHttpClient();
        var downloader = new ResumableDownloader(http, Options(time), log: Log);

        var ex = await Assert.ThrowsAsync<ModelDownloadException>(() =>
            downloader.DownloadAsync(new DownloadRequest(server.Url("f.bin"), Path.Combine(Root, "f.bin"))));

        Assert.Contains("kept rejecting the partial download", ex.Message);
        Assert.Equal(3, server.Requests.Count);
        Assert.Empty(time.Waits); // a restart goes again at once
    }

    [Fact]
    public async Task Metadata_requests_are_retried_with_retry_after()
    {
        int heads = 0;
        var time = new RecordingTime();
        using var hub = new TestHttpServer(r =>
        {
            if (r.Method == "HEAD" && Interlocked.Increment(ref heads) == 1) return Busy(503, retryAfterSeconds: 3);
            if (r.Path.EndsWith("/config.json", StringComparison.Ordinal)) return TestResponse.File(r, Encoding.UTF8.GetBytes("{}"));
            if (r.Path.EndsWith("/model.safetensors", StringComparison.Ordinal)) return TestResponse.File(r, Content);
            return new TestResponse { Status = 404, Headers = new(StringComparer.OrdinalIgnoreCase) { ["X-Error-Code"] = "EntryNotFound" } };
        });
        var options = Options(time, initial: TimeSpan.FromSeconds(1), max: TimeSpan.FromSeconds(30));
        using var puller = Puller(hfEndpoint: hub.BaseUrl, options: options);

        var result = await puller.PullAsync("someone/clip");

        Assert.Equal(2, result.Files.Count);
        Assert.Equal(new[] { TimeSpan.FromSeconds(3) }, time.Waits);
        Assert.Contains("someone/clip/config.json: " + hub.BaseUrl.Authority + " answered 503 Service Unavailable; retrying in 3 s.",
            Log.ToString());
    }

    [Fact]
    public async Task Metadata_requests_give_up_after_MaxAttempts_as_a_network_error()
    {
        var time = new RecordingTime();
        using var hub = new TestHttpServer(_ => Busy(502));
        using var puller = Puller(hfEndpoint: hub.BaseUrl, options: Options(time));

        var ex = await Assert.ThrowsAsync<ModelDownloadException>(() => puller.PullAsync("someone/clip"));

        Assert.True(ex.IsNetworkError);
        Assert.Contains("someone/clip/config.json", ex.Message);
        Assert.Contains("gave up after 3 attempts", ex.Message);
        Assert.Equal(3, hub.Requests.Count);
        Assert.Equal(new[] { 10, 20 }.Select(ms => TimeSpan.FromMilliseconds(ms)), time.Waits);
    }

    [Fact]
    public async Task Cancelling_during_a_wait_stops_the_download()
    {
        using var cts = new CancellationTokenSource();
        var time = new RecordingTime
        {
            OnWait = _ =>
            {
                cts.Cancel();
                return false; // the wait never ends by itself
            },
        };
        using var server = new TestHttpServer(_ => Busy());
        using var puller = Puller(openAiBase: server.BaseUrl, options: Options(time));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => puller.PullOpenAiAsync(TestModel, cts.Token));

        Assert.Single(server.Requests);
        Assert.Single(time.Waits);
        Assert.False(File.Exists(FinalPath));
    }
}

/// <summary>A clock for retry waits: records each wait and ends it at once, unless <see cref="OnWait"/> says not to,
/// so tests check the schedule without sleeping.</summary>
public sealed class RecordingTime : TimeProvider
{
    private readonly List<TimeSpan> _waits = [];

    public IReadOnlyList<TimeSpan> Waits
    {
        get { lock (_waits) return _waits.ToList(); }
    }

    /// <summary>Called for each wait; the wait ends at once when it returns true, never when false.</summary>
    public Func<TimeSpan, bool> OnWait { get; init; } = _ => true;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        lock (_waits) _waits.Add(dueTime);
        if (OnWait(dueTime)) callback(state);
        return new FiredTimer();
    }

    private sealed class FiredTimer : ITimer
    {
        public bool Change(TimeSpan dueTime, TimeSpan period) => false;
        public void Dispose() { }
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
