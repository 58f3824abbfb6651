using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Peft.Core.Tracking;

namespace Peft.Tracking.Rest;

/// <summary>
/// Sends requests to an MLflow server with MLflow's client retry policy (see <see cref="RestTrackerOptions"/>).
/// POSTs are retried too, as MLflow's client does; the tracking calls we make are safe to repeat.
/// </summary>
internal sealed class MlflowHttp : IDisposable
{
    private static readonly HashSet<int> RetriedStatuses = [408, 429, 500, 502, 503, 504];
    public static bool IsRetried(int status) => RetriedStatuses.Contains(status);

    private readonly HttpClient _client;
    private readonly RestTrackerOptions _options;

    public MlflowHttp(Uri baseUri, RestTrackerOptions options)
    {
        _options = options;
        var handler = new SocketsHttpHandler { ConnectTimeout = options.Timeout };
        if (options.InsecureTls) handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        _client = new HttpClient(handler) { BaseAddress = baseUri, Timeout = options.Timeout };
        _client.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("peft-tracking", "1.0"));
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
        bool maybeApplied = false;
        for (int attempt = 0; ; attempt++)
        {
            if (maybeApplied && beforeRetry?.Invoke() is { } earlier) return earlier;
            maybeApplied = true;
            TimeSpan? retryAfter = null;
            string failure;
            try
            {
                using var request = makeRequest();
                if (_options.Credentials.Header() is { } auth) request.Headers.Authorization = auth;
                using var response = _client.Send(request, HttpCompletionOption.ResponseContentRead);
                var body = ReadBody(response);
                int status = (int)response.StatusCode;
                if (!IsRetried(status)) return new MlflowResponse(status, body);
                var reply = new MlflowResponse(status, body);
                if (attempt >= _options.MaxRetries)
                    throw new TrackingException($"MLflow {operation} failed after {attempt + 1} attempts: {reply.Describe()}", transient: true);
                retryAfter = RetryAfter(response);
                failure = reply.Describe();
            }
            catch (HttpRequestException e)
            {
                maybeApplied = e.HttpRequestError != HttpRequestError.ConnectionError;
                failure = $"{_client.BaseAddress} unreachable: {e.Message}";
                if (attempt >= _options.MaxRetries)
                    throw new TrackingException($"MLflow {operation} failed after {attempt + 1} attempts: {failure}", true, e);
            }
            catch (TaskCanceledException e)
            {
                failure = $"no reply from {_client.BaseAddress} within {_options.Timeout.TotalSeconds:0.###} s";
                if (attempt >= _options.MaxRetries)
                    throw new TrackingException($"MLflow {operation} failed after {attempt + 1} attempts: {failure}", true, e);
            }
            _options.Sleep(retryAfter ?? Backoff(attempt + 1));
        }
    }

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
}
