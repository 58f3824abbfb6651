using Peft.Models;

namespace Peft.Tests.Models;

/// <summary>Downloads of one checkpoint file from a local server: complete, interrupted and resumed, corrupted,
/// a server without Range support, 416, retries, and a file already in the cache.</summary>
public sealed class ResumableDownloadTests : ModelTestBase
{
    private static readonly byte[] Content = Checkpoint();
    private static readonly OpenAiClipSource TestModel = new("Test/1", Sha256(Content), "Test-1.pt");

    private string FinalPath => Path.Combine(Root, "openai", "Test-1.pt");
    private string PartialPath => FinalPath + ".partial";

    [Fact]
    public async Task Complete_download_is_verified_and_lands_at_the_cache_path()
    {
        using var server = new TestHttpServer(r => TestResponse.File(r, Content));
        using var puller = Puller(openAiBase: server.Url("clip/models/"));

        var result = await puller.PullOpenAiAsync(TestModel);

        Assert.Equal(FinalPath, result.Path);
        Assert.Equal(Content, File.ReadAllBytes(FinalPath));
        Assert.False(File.Exists(PartialPath));
        var file = Assert.Single(result.Files);
        Assert.True(file.Verified);
        Assert.False(file.AlreadyPresent);
        Assert.Equal(TestModel.Sha256, file.Sha256);
        var request = Assert.Single(server.Requests);
        Assert.Equal($"/clip/models/{TestModel.Sha256}/Test-1.pt", request.Path);
        Assert.Null(request.Header("Range"));
    }

    [Fact]
    public async Task Interrupted_download_resumes_with_a_range_request_from_the_partial_length()
    {
        const int cut = 100_000;
        int calls = 0;
        using var server = new TestHttpServer(r =>
            Interlocked.Increment(ref calls) == 1 ? TestResponse.File(r, Content, cutAfter: cut) : TestResponse.File(r, Content));
        using var puller = Puller(openAiBase: server.BaseUrl);

        var result = await puller.PullOpenAiAsync(TestModel);

        Assert.Equal(Content, File.ReadAllBytes(result.Path));
        Assert.False(File.Exists(PartialPath));
        var requests = server.Requests;
        Assert.Equal(2, requests.Count);
        Assert.Null(requests[0].RangeStart);
        Assert.Equal(cut, requests[1].RangeStart);
        Assert.Equal($"bytes={cut}-", requests[1].Header("Range"));
        Assert.Contains("retrying", Log.ToString());
    }

    [Fact]
    public async Task Connection_reset_mid_body_is_retried_and_resumed()
    {
        int calls = 0;
        using var server = new TestHttpServer(r =>
            Interlocked.Increment(ref calls) == 1 ? TestResponse.File(r, Content, cutAfter: 150_000, reset: true) : TestResponse.File(r, Content));
        using var puller = Puller(openAiBase: server.BaseUrl);

        var result = await puller.PullOpenAiAsync(TestModel);

        Assert.Equal(Content, File.ReadAllBytes(result.Path));
        Assert.Equal(2, server.Requests.Count);
        // A reset may drop bytes still in flight, so the client may hold fewer than were sent; it resumes from
        // whatever it wrote (possibly from 0, without a Range header, if nothing arrived).
        Assert.InRange(server.Requests[1].RangeStart ?? 0, 0, 150_000);
    }

    [Fact]
    public async Task A_partial_file_from_an_earlier_run_is_continued()
    {
        const int have = 123_456;
        Directory.CreateDirectory(Path.GetDirectoryName(PartialPath)!);
        File.WriteAllBytes(PartialPath, Content[..have]);
        using var server = new TestHttpServer(r => TestResponse.File(r, Content));
        using var puller = Puller(openAiBase: server.BaseUrl);

        var result = await puller.PullOpenAiAsync(TestModel);

        Assert.Equal(Content, File.ReadAllBytes(FinalPath));
        Assert.Equal(have, Assert.Single(result.Files).ResumedFrom);
        Assert.Equal(have, Assert.Single(server.Requests).RangeStart);
    }

    [Fact]
    public async Task Corrupted_body_is_rejected_with_both_hashes_and_leaves_no_file()
    {
        var corrupted = (byte[])Content.Clone();
        corrupted[200_000] ^= 0xFF;
        using var server = new TestHttpServer(r => TestResponse.File(r, corrupted));
        using var puller = Puller(openAiBase: server.BaseUrl);

        var ex = await Assert.ThrowsAsync<ChecksumMismatchException>(() => puller.PullOpenAiAsync(TestModel));

        Assert.Contains(FinalPath, ex.Message);
        Assert.Contains(TestModel.Sha256, ex.Message);
        Assert.Contains(Sha256(corrupted), ex.Message);
        Assert.Equal(Sha256(corrupted), ex.Actual);
        Assert.False(File.Exists(FinalPath));
        Assert.False(File.Exists(PartialPath));
    }

    [Fact]
    public async Task Official_name_is_fetched_from_its_sha256_address_and_checked_against_the_table()
    {
        // The local server does not have the real ViT-B/16 weights: the request path must be clip.py's, and the
        // bytes it serves must be refused because they do not hash to the table's SHA-256.
        using var server = new TestHttpServer(r => TestResponse.File(r, Content));
        using var puller = Puller(openAiBase: server.Url("clip/models"));

        var ex = await Assert.ThrowsAsync<ChecksumMismatchException>(() => puller.PullAsync("ViT-B/16"));

        Assert.Equal("/clip/models/5806e77cd80f8b59890b7e101eabd078d9fb84e6937f9e85e4ecb61988df416f/ViT-B-16.pt",
            Assert.Single(server.Requests).Path);
        Assert.Equal("5806e77cd80f8b59890b7e101eabd078d9fb84e6937f9e85e4ecb61988df416f", ex.Expected);
        Assert.Equal(Path.Combine(Root, "openai", "ViT-B-16.pt"), ex.File);
        Assert.Empty(FilesUnder(Root));
    }

    [Fact]
    public async Task Server_that_ignores_range_makes_the_download_start_over()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(PartialPath)!);
        File.WriteAllBytes(PartialPath, Checkpoint(50_000, seed: 99)); // not even the right bytes
        using var server = new TestHttpServer(r => TestResponse.File(r, Content, honorRange: false));
        using var puller = Puller(openAiBase: server.BaseUrl);

        var result = await puller.PullOpenAiAsync(TestModel);

        Assert.Equal(Content, File.ReadAllBytes(FinalPath));
        Assert.Equal(50_000, Assert.Single(server.Requests).RangeStart);
        Assert.Equal(0, Assert.Single(result.Files).ResumedFrom);
        Assert.Contains("starting over", Log.ToString());
    }

    [Fact]
    public async Task Range_not_satisfiable_with_a_complete_partial_finishes_without_a_body()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(PartialPath)!);
        File.WriteAllBytes(PartialPath, Content);
        using var server = new TestHttpServer(r => TestResponse.File(r, Content));
        using var puller = Puller(openAiBase: server.BaseUrl);

        await puller.PullOpenAiAsync(TestModel);

        Assert.Equal(Content, File.ReadAllBytes(FinalPath));
        Assert.Equal(Content.Length, Assert.Single(server.Requests).RangeStart); // answered 416 bytes */300000
    }

    [Fact]
    public async Task Range_not_satisfiable_with_an_oversized_partial_starts_over()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(PartialPath)!);
        File.WriteAllBytes(PartialPath, Checkpoint(Content.Length + 10, seed: 5));
        using var server = new TestHttpServer(r => TestResponse.File(r, Content));
        using var puller = Puller(openAiBase: server.BaseUrl);

        await puller.PullOpenAiAsync(TestModel);

        Assert.Equal(Content, File.ReadAllBytes(FinalPath));
        var requests = server.Requests;
        Assert.Equal(2, requests.Count);
        Assert.Equal(Content.Length + 10, requests[0].RangeStart);
        Assert.Null(requests[1].RangeStart);
    }

    [Fact]
    public async Task Server_errors_are_retried()
    {
        int calls = 0;
        using var server = new TestHttpServer(r =>
            Interlocked.Increment(ref calls) == 1 ? TestResponse.Text(503, "busy") : TestResponse.File(r, Content));
        using var puller = Puller(openAiBase: server.BaseUrl);

        await puller.PullOpenAiAsync(TestModel);

        Assert.Equal(Content, File.ReadAllBytes(FinalPath));
        Assert.Equal(2, server.Requests.Count);
    }

    [Fact]
    public async Task Persistent_failure_gives_up_after_the_attempts_and_keeps_the_partial_file()
    {
        int calls = 0;
        using var server = new TestHttpServer(r =>
            Interlocked.Increment(ref calls) == 1 ? TestResponse.File(r, Content, cutAfter: 80_000) : TestResponse.Text(500, "broken"));
        using var puller = Puller(openAiBase: server.BaseUrl);

        var ex = await Assert.ThrowsAsync<ModelDownloadException>(() => puller.PullOpenAiAsync(TestModel));

        Assert.True(ex.IsNetworkError);
        Assert.Contains("resume", ex.Message);
        Assert.Equal(1 + FastOptions.MaxAttempts, server.Requests.Count); // the cut attempt made progress: count restarts
        Assert.Equal(Content[..80_000], File.ReadAllBytes(PartialPath));
        Assert.False(File.Exists(FinalPath));
    }

    [Fact]
    public async Task Not_found_is_not_retried_and_suggests_alternatives()
    {
        using var server = new TestHttpServer(_ => TestResponse.Text(404, "no"));
        using var puller = Puller(openAiBase: server.BaseUrl);

        var ex = await Assert.ThrowsAsync<ModelDownloadException>(() => puller.PullAsync("ViT-L/14"));

        Assert.Equal(404, ex.StatusCode);
        Assert.Single(server.Requests);
        Assert.Contains(ModelPullOptions.OpenAiBaseUrlVariable, ex.Message);
        Assert.Contains("openai/clip-vit-large-patch14", ex.Message);
    }

    [Fact]
    public async Task A_cached_file_with_the_right_hash_is_not_downloaded_again()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(FinalPath)!);
        File.WriteAllBytes(FinalPath, Content);
        using var server = new TestHttpServer(r => TestResponse.File(r, Content));
        using var puller = Puller(openAiBase: server.BaseUrl);

        var result = await puller.PullOpenAiAsync(TestModel);

        Assert.True(Assert.Single(result.Files).AlreadyPresent);
        Assert.Empty(server.Requests);
    }

    [Fact]
    public async Task A_cached_file_with_the_wrong_hash_is_replaced()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(FinalPath)!);
        File.WriteAllBytes(FinalPath, Checkpoint(Content.Length, seed: 7));
        using var server = new TestHttpServer(r => TestResponse.File(r, Content));
        using var puller = Puller(openAiBase: server.BaseUrl);

        var result = await puller.PullOpenAiAsync(TestModel);

        Assert.False(Assert.Single(result.Files).AlreadyPresent);
        Assert.Equal(Content, File.ReadAllBytes(FinalPath));
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task Authorization_is_not_forwarded_to_another_host_after_a_redirect()
    {
        using var cdn = new TestHttpServer(r => TestResponse.File(r, Content));
        using var origin = new TestHttpServer(_ => TestResponse.Redirect(cdn.Url("blob/abc").AbsoluteUri));
        using var http = ResumableDownloaderHttp();
        var downloader = Downloader(http);

        var result = await downloader.DownloadAsync(new DownloadRequest(origin.Url("file.bin"), Path.Combine(Root, "x", "file.bin"))
        {
            Sha256 = Sha256(Content),
            Authorization = "Bearer secret",
        });

        Assert.True(result.Verified);
        Assert.Equal("Bearer secret", Assert.Single(origin.Requests).Header("Authorization"));
        Assert.Null(Assert.Single(cdn.Requests).Header("Authorization"));
    }

    private sealed class RecordingProgress : Peft.Terminal.IProgressReporter
    {
        public long? Total { get; set; }
        public List<long> Reports { get; } = [];
        public bool Disposed { get; private set; }
        public void Report(long done) => Reports.Add(done);
        public void Dispose() => Disposed = true;
    }

    [Fact]
    public async Task Progress_is_reported_from_the_resumed_offset_to_the_end_with_the_total()
    {
        Directory.CreateDirectory(Path.Combine(Root, "x"));
        File.WriteAllBytes(Path.Combine(Root, "x", "f.bin.partial"), Content[..100_000]);
        using var server = new TestHttpServer(r => TestResponse.File(r, Content));
        using var http = ResumableDownloaderHttp();
        var bars = new List<(string Label, long? Total, RecordingProgress Bar)>();
        var downloader = new ResumableDownloader(http, FastOptions, (label, total) =>
        {
            var bar = new RecordingProgress();
            bars.Add((label, total, bar));
            return bar;
        });

        await downloader.DownloadAsync(new DownloadRequest(server.Url("f.bin"), Path.Combine(Root, "x", "f.bin")) { Sha256 = Sha256(Content) });

        var (label, total, recorded) = Assert.Single(bars);
        Assert.Equal("f.bin", label);
        Assert.Equal(Content.Length, total);
        Assert.Equal(100_000, recorded.Reports[0]);
        Assert.Equal(Content.Length, recorded.Reports[^1]);
        Assert.True(recorded.Reports.SequenceEqual(recorded.Reports.Order()));
        Assert.True(recorded.Disposed);
    }

    private static HttpClient ResumableDownloaderHttp() => ResumableDownloader.CreateHttpClient();
}
