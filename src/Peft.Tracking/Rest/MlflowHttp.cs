using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Logging;
using Peft.Core.Diagnostics;
using Peft.Core.Tracking;
using Polly;
using Polly.Retry;

namespace Peft.Tracking.Rest;

/// <summary>
/// Sends requests to an MLflow server with MLflow's client retry policy (see <see cref="RestTrackerOptions"/>), run by a
/// Polly retry pipeline. POSTs are retried too, as MLflow's client does; the tracking calls we make are safe to repeat.
/// </summary>
internal sealed class MlflowHttp : IDisposable
{
    private static readonly HashSet<int> RetriedStatuses = [408, 429, 500, 502, 503, 504];
    public static bool IsRetried(int status) => RetriedStatuses.Contains(status);

    private readonly HttpClient _client;
    private readonly RestTrackerOptions _options;
    private readonly ResiliencePipeline<Attempt> _retries;
    private static ILogger Log => PeftLog.For(typeof(MlflowHttp).FullName!); // the factory in force now (set by the command line)

    /// <summary>A reply with its Retry-After; <paramref name="FromBeforeRetry"/> marks the one that ends the retries.</summary>
    private sealed record Attempt(MlflowResponse Reply, TimeSpan? RetryAfter, bool FromBeforeRetry = false);

    public MlflowHttp(Uri baseUri, RestTrackerOptions options)
    {
        _options = options;
        var handler = new SocketsHttpHandler { ConnectTimeout = options.Timeout };
        if (options.InsecureTls) handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        _client = new HttpClient(handler) { BaseAddress = baseUri, Timeout = options.Timeout };
        _client.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("peft-tracking", "1.0"));
        _retries = BuildRetries();
    }

    private ResiliencePipeline<Attempt> BuildRetries()
    {
        var builder = new ResiliencePipelineBuilder<Attempt> { TimeProvider = new SleepTimeProvider(_options.Sleep) };
        if (_options.MaxRetries == 0) return builder.Build(); // Polly's retry needs at least one retry: no strategy, one attempt
        return builder.AddRetry(new RetryStrategyOptions<Attempt>
        {
            MaxRetryAttempts = _options.MaxRetries,
            ShouldHandle = args => ValueTask.FromResult(args.Outcome switch
            {
                { Exception: HttpRequestException or TaskCanceledException } => true, // unreachable, connection lost, timeout
                { Result: { FromBeforeRetry: false } attempt } => IsRetried(attempt.Reply.Status),
                _ => false,
            }),
            // AttemptNumber is 0 before the first retry, which follows the first error.
            DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(args.Outcome.Result?.RetryAfter ?? Backoff(args.AttemptNumber + 1)),
            OnRetry = args =>
            {
                Log.LogDebug("{Server}: {Failure}; retry {Retry} of {MaxRetries} in {Delay:0.###} s", _client.BaseAddress,
                    args.Outcome.Exception?.Message ?? args.Outcome.Result?.Reply.Describe(), args.AttemptNumber + 1, _options.MaxRetries, args.RetryDelay.TotalSeconds);
                return default;
            },
        }).Build();
    }

    /// <summary>
    /// The final reply (success or refusal). Throws a transient <see cref="TrackingException"/> when the server
    /// stays unreachable or keeps answering with a retried status beyond the retries.
    /// </summary>
    /// <param name="beforeRetry">
    /// Asked before a retry when the server may have applied the failed attempt (a reply or the connection was lost,
    /// not refused); a reply it returns ends the retries. This is how run creation stays idempotent.
    /// </param>
    public MlflowResponse Send(string operation, Func<HttpRequestMessage> makeRequest, Func<MlflowResponse?>? beforeRetry = null)
    {
        int attempts = 0;
        bool maybeApplied = false;
        try
        {
            var last = _retries.Execute(() =>
            {
                // Asked here rather than in OnRetry so that it runs after the wait, just before the retry.
                if (maybeApplied && beforeRetry?.Invoke() is { } earlier) return new Attempt(earlier, null, FromBeforeRetry: true);
                attempts++;
                maybeApplied = true;
                try
                {
                    return SendOnce(makeRequest);
                }
                catch (HttpRequestException e)
                {
                    maybeApplied = e.HttpRequestError != HttpRequestError.ConnectionError; // refused: never reached the server
                    throw;
                }
            });
            if (last.FromBeforeRetry || !IsRetried(last.Reply.Status)) return last.Reply;
            throw Exhausted(operation, attempts, last.Reply.Describe());
        }
        // Polly rethrows the last attempt's exception once the retries are used up.
        catch (HttpRequestException e)
        {
            throw Exhausted(operation, attempts, $"{_client.BaseAddress} unreachable: {e.Message}", e);
        }
        catch (TaskCanceledException e)
        {
            throw Exhausted(operation, attempts, $"no reply from {_client.BaseAddress} within {_options.Timeout.TotalSeconds:0.###} s", e);
        }
    }

    private Attempt SendOnce(Func<HttpRequestMessage> makeRequest)
    {
        using var request = makeRequest();
        if (_options.Credentials.Header() is { } auth) request.Headers.Authorization = auth;
        using var response = _client.Send(request, HttpCompletionOption.ResponseContentRead);
        var body = ReadBody(response);
        return new Attempt(new MlflowResponse((int)response.StatusCode, body), RetryAfter(response));
    }

    private static TrackingException Exhausted(string operation, int attempts, string failure, Exception? inner = null) =>
        new($"MLflow {operation} failed after {attempts} attempts: {failure}", transient: true, inner);

    private static string ReadBody(HttpResponseMessage response)
    {
        using var stream = response.Content.ReadAsStream();
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    /// <summary>urllib3's backoff: none before the first retry, then factor·2^(n-1) s (capped) plus up to jitter s.</summary>
    internal TimeSpan Backoff(int consecutiveErrors)
    {
        if (consecutiveErrors <= 1) return TimeSpan.Zero;
        var seconds = _options.BackoffFactor * Math.Pow(2, consecutiveErrors - 1);
        if (_options.BackoffJitter > 0) seconds += Random.Shared.NextDouble() * _options.BackoffJitter;
        return TimeSpan.FromSeconds(Math.Min(RestTrackerOptions.MaxBackoffSeconds, seconds));
    }

    private static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta) return Min(delta);
        if (header?.Date is { } date) return Min(date - DateTimeOffset.UtcNow);
        return null;

        static TimeSpan Min(TimeSpan t) => t < TimeSpan.Zero ? TimeSpan.Zero
            : t > TimeSpan.FromSeconds(RestTrackerOptions.MaxBackoffSeconds) ? TimeSpan.FromSeconds(RestTrackerOptions.MaxBackoffSeconds) : t;
    }

    public void Dispose() => _client.Dispose();

    /// <summary>
    /// Makes Polly's waits go through <see cref="RestTrackerOptions.Sleep"/> (tests record them instead of sleeping).
    /// Polly waits with Task.Delay(delay, TimeProvider), which asks for a one-shot timer: this one sleeps, then fires,
    /// so the wait blocks the calling thread like the synchronous request around it. Polly skips zero waits.
    /// </summary>
    private sealed class SleepTimeProvider(Action<TimeSpan> sleep) : TimeProvider
    {
        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            if (period != Timeout.InfiniteTimeSpan || dueTime == Timeout.InfiniteTimeSpan)
                throw new NotSupportedException("only one-shot timers with a due time (Polly's retry delays)");
            sleep(dueTime);
            callback(state);
            return new FiredTimer();
        }

        private sealed class FiredTimer : ITimer
        {
            public bool Change(TimeSpan dueTime, TimeSpan period) => false;
            public void Dispose() { }
            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }
}
