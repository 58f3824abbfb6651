using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Peft.Terminal;
using Polly;
using Polly.Retry;

namespace Peft.Models;

/// <summary>How hard a download tries.</summary>
public sealed class DownloadOptions
{
    /// <summary>Attempts in a row that make no progress before giving up (an attempt that received bytes resets
    /// the count).</summary>
    public int MaxAttempts { get; init; } = 5;
    /// <summary>Wait before the first retry; doubles on each further retry, up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Longest wait for a response's headers.</summary>
    public TimeSpan ResponseTimeout { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>Longest wait for the next bytes of a body before the connection is considered stalled.</summary>
    public TimeSpan ReadTimeout { get; init; } = TimeSpan.FromSeconds(60);
    public int MaxRedirects { get; init; } = 10;
    /// <summary>The clock the retries wait on; tests pass one whose timers fire at once.</summary>
    internal TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}

/// <summary>One file to fetch.</summary>
/// <param name="Url">Where from (redirects are followed).</param>
/// <param name="Destination">The final file; bytes go to <c>{Destination}.partial</c> until verified.</param>
public sealed record DownloadRequest(Uri Url, string Destination)
{
    /// <summary>Expected SHA-256 (hex); checked over the whole file before it gets its final name.</summary>
    public string? Sha256 { get; init; }
    /// <summary>Expected git blob SHA-1 (hex) — what Hugging Face reports as the ETag of small, non-LFS files.</summary>
    public string? GitSha1 { get; init; }
    /// <summary>Expected size in bytes, when known in advance.</summary>
    public long? Size { get; init; }
    /// <summary>Value of the Authorization header; sent only to <see cref="Url"/>'s origin (scheme, host, port),
    /// never to a host a redirect leads to.</summary>
    public string? Authorization { get; init; }
    /// <summary>Name shown in progress and messages; the file name by default.</summary>
    public string? Label { get; init; }
}

/// <param name="AlreadyPresent">The final file was there and matched; nothing was downloaded.</param>
/// <param name="ResumedFrom">Bytes of an earlier partial download that were kept (0 for a fresh start).</param>
/// <param name="Verified">A checksum was known and matched (false only when the server gave none).</param>
public sealed record DownloadResult(string Path, long Bytes, string Sha256, bool AlreadyPresent, long ResumedFrom, bool Verified);

/// <summary>A download that failed for good (after retries, or for a reason retrying cannot fix).</summary>
public class ModelDownloadException(string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>HTTP status that ended it, if any.</summary>
    public int? StatusCode { get; init; }
    /// <summary>The network failed (no connection, name not resolved, retries used up), as opposed to the server
    /// answering with an error.</summary>
    public bool IsNetworkError { get; init; }
}

/// <summary>The downloaded bytes do not have the expected checksum; the partial file has been deleted.</summary>
public sealed class ChecksumMismatchException(string file, string algorithm, string expected, string actual)
    : ModelDownloadException($"Checksum mismatch for {file}: expected {algorithm} {expected}, got {actual}. " +
                             "The download was deleted; run the command again to start over.")
{
    public string File { get; } = file;
    public string Algorithm { get; } = algorithm;
    public string Expected { get; } = expected;
    public string Actual { get; } = actual;
}

/// <summary>A failure worth retrying (connection reset, 5xx, timeout).</summary>
internal sealed class TransientDownloadException(string message, Exception? inner = null, TimeSpan? retryAfter = null)
    : Exception(message, inner)
{
    public TimeSpan? RetryAfter { get; } = retryAfter;
}

/// <summary>
/// Downloads a file over HTTP(S) resumably: bytes go to <c>{file}.partial</c>; an existing partial file is
/// continued with <c>Range: bytes=N-</c> (206 appends; a server that ignores the range (200) makes it start over;
/// 416 means the partial file is already complete, or invalid and restarted). Transient failures are retried with
/// exponential backoff (or the server's Retry-After), resuming each time; Polly retry pipelines run the retries.
/// The SHA-256 of the whole file is checked before the partial file is renamed (atomically) to its final name, so a
/// final file is never half-written. A final file already present with the expected checksum is not downloaded again.
/// </summary>
public sealed class ResumableDownloader
{
    private const int BufferSize = 1 << 20;
    private readonly HttpClient _http;
    private readonly DownloadOptions _options;
    private readonly Func<string, long?, IProgressReporter?>? _progress;
    private readonly TextWriter? _log;
    private readonly ResiliencePipeline<AttemptEnd> _downloadRetries;
    private readonly ResiliencePipeline _requestRetries;

    /// <summary>Hands a download's <see cref="Transfer"/> to the retry strategy's callbacks.</summary>
    private static readonly ResiliencePropertyKey<Transfer> TransferKey = new("Peft.Models.Transfer");

    /// <param name="http">A client that does not follow redirects itself (see <see cref="CreateHttpClient"/>).</param>
    /// <param name="progress">Makes a progress reporter for a file (label, total bytes when known); it may return
    /// null (e.g. for small files). No progress when null.</param>
    /// <param name="log">Where retries and restarts are reported; silent when null.</param>
    public ResumableDownloader(HttpClient http, DownloadOptions? options = null,
        Func<string, long?, IProgressReporter?>? progress = null, TextWriter? log = null)
    {
        _http = http;
        _options = options ?? new DownloadOptions();
        _progress = progress;
        _log = log;
        _downloadRetries = BuildDownloadRetries();
        _requestRetries = BuildRequestRetries();
    }

    public DownloadOptions Options => _options;

    /// <summary>A client suited to this class: redirects handled by the caller (so credentials are not forwarded
    /// to other hosts and response headers of each hop can be read), no transparent decompression (the bytes on
    /// disk are the bytes hashed), timeouts enforced per request and per read instead of overall.</summary>
    public static HttpClient CreateHttpClient()
    {
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = TimeSpan.FromSeconds(30),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            UseProxy = true,
        };
        var http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("peft", "0.1"));
        return http;
    }

    public async Task<DownloadResult> DownloadAsync(DownloadRequest request, CancellationToken ct = default)
    {
        var dest = Path.GetFullPath(request.Destination);
        var label = request.Label ?? Path.GetFileName(dest);
        if (Directory.Exists(dest)) throw new ModelDownloadException($"{dest} exists and is not a regular file.");
        Directory.CreateDirectory(Path.GetDirectoryName(dest)!);

        if (File.Exists(dest))
        {
            var present = await CheckExistingAsync(dest, request, ct).ConfigureAwait(false);
            if (present is not null) return present;
            _log?.WriteLine($"{label}: {dest} exists but its checksum does not match; downloading it again.");
        }

        var partialPath = dest + ModelCache.PartialSuffix;
        FileStream fs;
        try
        {
            fs = new FileStream(partialPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1 << 16);
        }
        catch (IOException ex)
        {
            throw new ModelDownloadException(
                $"Cannot open {partialPath}: {ex.Message} (is another download of the same file running?)", ex);
        }

        var t = new Transfer(request, label, fs);
        string sha256;
        long length;
        try
        {
            if (request.Size is long want && fs.Length > want)
            {
                Log(t, $"{label}: the partial download is larger than the file ({fs.Length} > {want} bytes); starting over.");
                fs.SetLength(0);
            }
            await HashExistingAsync(fs, t.Hasher, ct).ConfigureAwait(false);
            t.ResumedFrom = fs.Length;
            if (t.ResumedFrom > 0) Log(t, $"{label}: resuming from {t.ResumedFrom / 1048576.0:0.0} MB ({t.ResumedFrom} bytes) already downloaded.");

            var context = ResilienceContextPool.Shared.Get(label, ct);
            context.Properties.Set(TransferKey, t);
            try
            {
                var end = await _downloadRetries.ExecuteAsync(
                    static (ctx, s) => s.Self.NextAttemptAsync(s.t, ctx.CancellationToken), context, (Self: this, t)).ConfigureAwait(false);
                if (end == AttemptEnd.Restart)
                    throw new ModelDownloadException($"{label}: the server at {request.Url} kept rejecting the partial download.");
            }
            // Polly rethrows the last failure once ShouldHandle stops retrying.
            catch (TransientDownloadException ex) when (!ct.IsCancellationRequested)
            {
                throw new ModelDownloadException(
                    $"{label}: download from {request.Url} failed after {t.Failures} attempts without progress: {ex.Message}. " +
                    (fs.Length > 0 ? $"{fs.Length} bytes are kept in {partialPath}; run the command again to resume." : ""),
                    ex) { IsNetworkError = true };
            }
            finally
            {
                ResilienceContextPool.Shared.Return(context);
            }

            await fs.FlushAsync(ct).ConfigureAwait(false);
            fs.Flush(flushToDisk: true);
            length = fs.Length;
            sha256 = Convert.ToHexStringLower(t.Hasher.GetHashAndReset());
        }
        finally
        {
            t.Dispose(); // closes the partial file and ends the progress line
        }

        bool verified = false;
        if (request.Sha256 is not null)
        {
            if (!HexEquals(request.Sha256, sha256)) Reject(partialPath, dest, "SHA-256", request.Sha256, sha256);
            verified = true;
        }
        if (request.GitSha1 is not null)
        {
            var git = await GitBlobSha1Async(partialPath, ct).ConfigureAwait(false);
            if (!HexEquals(request.GitSha1, git)) Reject(partialPath, dest, "git blob SHA-1", request.GitSha1, git);
            verified = true;
        }
        if (request.Size is long expectedSize && expectedSize != length)
            Reject(partialPath, dest, "size", expectedSize.ToString(CultureInfo.InvariantCulture) + " bytes",
                length.ToString(CultureInfo.InvariantCulture) + " bytes");

        File.Move(partialPath, dest, overwrite: true); // rename(2): atomic within the folder
        return new DownloadResult(dest, length, sha256, AlreadyPresent: false, t.ResumedFrom, verified);
    }

    /// <summary>How an attempt that did not fail ended: the file is complete, or the partial file was discarded and
    /// the download should start over.</summary>
    private enum AttemptEnd { Complete, Restart }

    /// <summary>
    /// The retries of one file's download. Polly's attempt count only grows, but an attempt that received bytes is
    /// progress and resets ours; so <see cref="ShouldRetry"/> keeps the count of failures in a row on the
    /// <see cref="Transfer"/> and decides when to give up, and Polly's own limit is unbounded.
    /// </summary>
    private ResiliencePipeline<AttemptEnd> BuildDownloadRetries() =>
        new ResiliencePipelineBuilder<AttemptEnd> { TimeProvider = _options.TimeProvider }
            .AddRetry(new RetryStrategyOptions<AttemptEnd>
            {
                MaxRetryAttempts = int.MaxValue, // unbounded: ShouldRetry gives up
                ShouldHandle = args => ValueTask.FromResult(ShouldRetry(TransferOf(args.Context), args.Outcome, args.Context.CancellationToken)),
                // A restart goes again at once (Polly skips a zero wait).
                DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(args.Outcome.Exception is TransientDownloadException ex
                    ? DelayAfter(ex, Math.Max(1, TransferOf(args.Context).Failures))
                    : TimeSpan.Zero),
                OnRetry = args =>
                {
                    if (args.Outcome.Exception is TransientDownloadException ex)
                    {
                        var t = TransferOf(args.Context);
                        Log(t, $"{t.Label}: {ex.Message}; retrying in {args.RetryDelay.TotalSeconds:0.#} s from byte {t.File.Length}" +
                               (t.Failures > 0 ? $" ({t.Failures} of {_options.MaxAttempts} failures in a row)." : "."));
                    }
                    return default;
                },
            })
            .Build();

    private static Transfer TransferOf(ResilienceContext context) => context.Properties.GetValue(TransferKey, null!);

    /// <summary>Counts a failed attempt and says whether to try again: a transient failure, or a restart (not
    /// forever), until <see cref="DownloadOptions.MaxAttempts"/> attempts in a row have made no progress.</summary>
    private bool ShouldRetry(Transfer t, Outcome<AttemptEnd> outcome, CancellationToken ct)
    {
        if (outcome.Exception is null) return outcome.Result == AttemptEnd.Restart && ++t.Failures < _options.MaxAttempts;
        if (outcome.Exception is not TransientDownloadException || ct.IsCancellationRequested) return false;
        // An attempt that got bytes is progress, not a failure: only attempts in a row without any count.
        t.Failures = t.Received > t.ReceivedBefore ? 0 : t.Failures + 1;
        return t.Failures < _options.MaxAttempts;
    }

    /// <summary>One attempt for the retry pipeline; none is needed once the partial file has every byte.</summary>
    private ValueTask<AttemptEnd> NextAttemptAsync(Transfer t, CancellationToken ct)
    {
        if (t.Request.Size is long size && t.File.Length == size && size > 0) return ValueTask.FromResult(AttemptEnd.Complete);
        t.ReceivedBefore = t.Received;
        return new ValueTask<AttemptEnd>(AttemptAsync(t, ct));
    }

    /// <summary>A message about a transfer: through its progress bar when it draws one on the same stream, so the
    /// message does not end up glued to the bar's line.</summary>
    private void Log(Transfer t, string message)
    {
        if (_log is null) return;
        if (t.Bar is ConsoleProgress { Interactive: true } bar && ReferenceEquals(_log, Console.Error)) bar.Message(message);
        else _log.WriteLine(message);
    }

    /// <summary>The state of one file's download across attempts.</summary>
    private sealed class Transfer(DownloadRequest request, string label, FileStream fs) : IDisposable
    {
        public DownloadRequest Request { get; } = request;
        public string Label { get; } = label;
        public FileStream File { get; } = fs;
        /// <summary>SHA-256 of exactly the bytes in <see cref="File"/>.</summary>
        public IncrementalHash Hasher { get; } = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        public IProgressReporter? Bar { get; set; }
        public bool BarRequested { get; set; }
        /// <summary>Bytes kept from an earlier run (0 once they have been discarded).</summary>
        public long ResumedFrom { get; set; }
        /// <summary>Bytes received over the network in this run.</summary>
        public long Received { get; set; }
        /// <summary><see cref="Received"/> when the current attempt began.</summary>
        public long ReceivedBefore { get; set; }
        /// <summary>Attempts in a row that made no progress (restarts included).</summary>
        public int Failures { get; set; }

        /// <summary>Discards the partial file's content.</summary>
        public void Restart()
        {
            File.SetLength(0);
            Hasher.GetHashAndReset();
            ResumedFrom = 0;
        }

        public void Dispose()
        {
            File.Dispose();
            Hasher.Dispose();
            Bar?.Dispose();
        }
    }

    private async Task<AttemptEnd> AttemptAsync(Transfer t, CancellationToken ct)
    {
        var (request, label, fs) = (t.Request, t.Label, t.File);
        long offset = fs.Length;
        using var response = await SendAsync(HttpMethod.Get, request.Url, request.Authorization,
            offset > 0 ? offset : null, followCrossHost: true, ct).ConfigureAwait(false);
        var status = (int)response.StatusCode;
        long? total;
        switch (status)
        {
            case 206:
            {
                var range = response.Content.Headers.ContentRange;
                if (offset == 0 && range?.From is null or 0)
                {
                    total = range?.Length ?? request.Size;
                    break;
                }
                if (range?.From != offset)
                {
                    Log(t, $"{label}: the server sent bytes {range?.From}- instead of {offset}-; starting over.");
                    t.Restart();
                    return AttemptEnd.Restart;
                }
                total = range.Length ?? request.Size;
                break;
            }
            case 200:
                if (offset > 0)
                {
                    Log(t, $"{label}: the server does not support resuming (it ignored the range request); starting over.");
                    t.Restart();
                    offset = 0;
                }
                total = response.Content.Headers.ContentLength ?? request.Size;
                break;
            case 416:
            {
                long? serverLength = response.Content.Headers.ContentRange?.Length ?? request.Size;
                if (offset > 0 && serverLength == offset) return AttemptEnd.Complete;
                if (offset == 0)
                    throw new ModelDownloadException($"{label}: {request.Url} answered 416 (range not satisfiable) to a request without a range.")
                    { StatusCode = status };
                Log(t, $"{label}: the partial download ({offset} bytes) does not fit the file on the server " +
                                $"({serverLength?.ToString(CultureInfo.InvariantCulture) ?? "unknown size"}); starting over.");
                t.Restart();
                return AttemptEnd.Restart;
            }
            default:
                throw ErrorFor(response, request.Url, label);
        }

        if (!t.BarRequested && _progress is not null)
        {
            t.BarRequested = true;
            t.Bar = _progress(label, total);
        }
        var bar = t.Bar;
        if (bar is not null)
        {
            bar.Total = total;
            bar.Report(offset);
        }

        fs.Seek(0, SeekOrigin.End);
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            Stream body;
            try
            {
                body = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsNetworkFailure(ex, ct))
            {
                throw new TransientDownloadException($"reading the response failed ({ex.Message})", ex);
            }
            await using var _ = body.ConfigureAwait(false);
            using var idle = CancellationTokenSource.CreateLinkedTokenSource(ct);
            while (true)
            {
                int n;
                idle.CancelAfter(_options.ReadTimeout);
                try
                {
                    n = await body.ReadAsync(buffer.AsMemory(0, BufferSize), idle.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException ex) when (!ct.IsCancellationRequested)
                {
                    throw new TransientDownloadException($"no data for {_options.ReadTimeout.TotalSeconds:0} s", ex);
                }
                catch (Exception ex) when (IsNetworkFailure(ex, ct))
                {
                    throw new TransientDownloadException($"connection lost after {fs.Length} bytes ({ex.Message})", ex);
                }
                if (n == 0) break;
                await fs.WriteAsync(buffer.AsMemory(0, n), ct).ConfigureAwait(false);
                t.Hasher.AppendData(buffer, 0, n);
                t.Received += n;
                bar?.Report(fs.Length);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        if (total is long expected && fs.Length < expected)
            throw new TransientDownloadException($"connection closed after {fs.Length} of {expected} bytes");
        return AttemptEnd.Complete;
    }

    /// <summary>Sends a request, following redirects by hand: the Authorization header goes only to the origin of
    /// <paramref name="url"/>; with <paramref name="followCrossHost"/> false, a redirect to another origin is
    /// returned as is (its Location and headers are the answer), and so is any redirect for which
    /// <paramref name="stopAtRedirect"/> returns true. Network failures and 5xx/408/429 become
    /// <see cref="TransientDownloadException"/>; the caller owns the returned response.</summary>
    internal async Task<HttpResponseMessage> SendAsync(HttpMethod method, Uri url, string? authorization, long? rangeFrom,
        bool followCrossHost, CancellationToken ct, Func<HttpResponseMessage, bool>? stopAtRedirect = null)
    {
        var current = url;
        for (int hop = 0; ; hop++)
        {
            using var msg = new HttpRequestMessage(method, current);
            if (authorization is not null && SameOrigin(current, url))
                msg.Headers.TryAddWithoutValidation("Authorization", authorization);
            if (rangeFrom is long from) msg.Headers.Range = new RangeHeaderValue(from, null);
            msg.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("identity"));

            HttpResponseMessage response;
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                timeout.CancelAfter(_options.ResponseTimeout);
                try
                {
                    response = await _http.SendAsync(msg, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException ex) when (!ct.IsCancellationRequested)
                {
                    throw new TransientDownloadException($"no response from {current.Authority} within {_options.ResponseTimeout.TotalSeconds:0} s", ex);
                }
                catch (HttpRequestException ex) when (ex.HttpRequestError == HttpRequestError.NameResolutionError)
                {
                    throw new ModelDownloadException($"Cannot resolve host {current.Host} (are you offline?): {ex.Message}", ex) { IsNetworkError = true };
                }
                catch (Exception ex) when (IsNetworkFailure(ex, ct))
                {
                    throw new TransientDownloadException($"request to {current.Authority} failed ({ex.Message})", ex);
                }
            }

            int status = (int)response.StatusCode;
            if (status is 301 or 302 or 303 or 307 or 308 && response.Headers.Location is { } location)
            {
                var next = location.IsAbsoluteUri ? location : new Uri(current, location);
                if (!followCrossHost && !SameOrigin(next, current)) return response;
                if (stopAtRedirect?.Invoke(response) == true) return response;
                response.Dispose();
                if (hop >= _options.MaxRedirects)
                    throw new ModelDownloadException($"Too many redirects from {url}.");
                if (status == 303) method = method == HttpMethod.Head ? HttpMethod.Head : HttpMethod.Get;
                current = next;
                continue;
            }
            if (status is 408 or 429 or >= 500)
            {
                var retryAfter = response.Headers.RetryAfter is { } ra
                    ? ra.Delta ?? (ra.Date is { } d ? d - DateTimeOffset.UtcNow : null)
                    : null;
                var reason = response.ReasonPhrase;
                response.Dispose();
                throw new TransientDownloadException($"{current.Authority} answered {status} {reason}".TrimEnd(), null,
                    retryAfter is { } r && r > TimeSpan.Zero ? r : null);
            }
            return response;
        }
    }

    /// <summary>Retries for <see cref="RetryAsync"/>: transient failures, up to <see cref="DownloadOptions.MaxAttempts"/>
    /// attempts in all, with the same waits as downloads. The context's operation key is the label.</summary>
    private ResiliencePipeline BuildRequestRetries()
    {
        var builder = new ResiliencePipelineBuilder { TimeProvider = _options.TimeProvider };
        if (_options.MaxAttempts <= 1) return builder.Build(); // Polly's retry needs at least one retry: one attempt, no strategy
        return builder.AddRetry(new RetryStrategyOptions
        {
            MaxRetryAttempts = _options.MaxAttempts - 1,
            ShouldHandle = args => ValueTask.FromResult(
                args.Outcome.Exception is TransientDownloadException && !args.Context.CancellationToken.IsCancellationRequested),
            // AttemptNumber is 0 before the first retry, which follows the first failure.
            DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(DelayAfter((TransientDownloadException)args.Outcome.Exception!, args.AttemptNumber + 1)),
            OnRetry = args =>
            {
                _log?.WriteLine($"{args.Context.OperationKey}: {args.Outcome.Exception!.Message}; retrying in {args.RetryDelay.TotalSeconds:0.#} s.");
                return default;
            },
        }).Build();
    }

    /// <summary>Runs <paramref name="action"/>, retrying transient failures with the same backoff as downloads.</summary>
    internal async Task<T> RetryAsync<T>(string label, Func<Task<T>> action, CancellationToken ct)
    {
        var context = ResilienceContextPool.Shared.Get(label, ct);
        int attempts = 0;
        try
        {
            return await _requestRetries.ExecuteAsync(async _ =>
            {
                attempts++;
                return await action().ConfigureAwait(false);
            }, context).ConfigureAwait(false);
        }
        // Polly rethrows the last failure once the retries are used up.
        catch (TransientDownloadException ex) when (!ct.IsCancellationRequested)
        {
            throw new ModelDownloadException($"{label}: {ex.Message} (gave up after {attempts} attempts).", ex) { IsNetworkError = true };
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    internal static ModelDownloadException ErrorFor(HttpResponseMessage response, Uri url, string label)
    {
        int status = (int)response.StatusCode;
        string what = status switch
        {
            404 => "not found (404)",
            401 or 403 => $"access denied ({status})",
            _ => $"HTTP {status} {response.ReasonPhrase}".TrimEnd(),
        };
        return new ModelDownloadException($"{label}: {url} — {what}.") { StatusCode = status };
    }

    /// <summary>The server's Retry-After when it is at most <see cref="DownloadOptions.MaxBackoff"/>, else our backoff.</summary>
    private TimeSpan DelayAfter(TransientDownloadException ex, int failures) =>
        ex.RetryAfter is TimeSpan ra && ra <= _options.MaxBackoff ? ra : Backoff(failures);

    private TimeSpan Backoff(int failures)
    {
        var ms = _options.InitialBackoff.TotalMilliseconds * Math.Pow(2, Math.Max(0, failures - 1));
        return TimeSpan.FromMilliseconds(Math.Min(ms, _options.MaxBackoff.TotalMilliseconds));
    }

    private static bool IsNetworkFailure(Exception ex, CancellationToken ct) =>
        !ct.IsCancellationRequested && ex is HttpRequestException or IOException or SocketException;

    private static bool SameOrigin(Uri a, Uri b) =>
        string.Equals(a.Scheme, b.Scheme, StringComparison.OrdinalIgnoreCase)
        && string.Equals(a.IdnHost, b.IdnHost, StringComparison.OrdinalIgnoreCase)
        && a.Port == b.Port;

    private static async Task HashExistingAsync(FileStream fs, IncrementalHash hasher, CancellationToken ct)
    {
        fs.Seek(0, SeekOrigin.Begin);
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            int n;
            while ((n = await fs.ReadAsync(buffer.AsMemory(0, BufferSize), ct).ConfigureAwait(false)) > 0)
                hasher.AppendData(buffer, 0, n);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task<DownloadResult?> CheckExistingAsync(string dest, DownloadRequest request, CancellationToken ct)
    {
        long length = new FileInfo(dest).Length;
        if (request.Size is long size && size != length) return null;
        string sha256;
        await using (var fs = new FileStream(dest, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16))
        {
            using var hasher = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            await HashExistingAsync(fs, hasher, ct).ConfigureAwait(false);
            sha256 = Convert.ToHexStringLower(hasher.GetHashAndReset());
        }
        if (request.Sha256 is not null && !HexEquals(request.Sha256, sha256)) return null;
        if (request.GitSha1 is not null && !HexEquals(request.GitSha1, await GitBlobSha1Async(dest, ct).ConfigureAwait(false)))
            return null;
        bool verified = request.Sha256 is not null || request.GitSha1 is not null;
        return new DownloadResult(dest, length, sha256, AlreadyPresent: true, ResumedFrom: 0, verified);
    }

    /// <summary>SHA-1 of <c>"blob {size}\0" + content</c>: git's object id of the file, which Hugging Face sends as
    /// the ETag of files not stored in LFS.</summary>
    public static async Task<string> GitBlobSha1Async(string path, CancellationToken ct = default)
    {
        await using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        using var sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        sha1.AppendData(Encoding.ASCII.GetBytes($"blob {fs.Length.ToString(CultureInfo.InvariantCulture)}\0"));
        await HashExistingAsync(fs, sha1, ct).ConfigureAwait(false);
        return Convert.ToHexStringLower(sha1.GetHashAndReset());
    }

    private static bool HexEquals(string a, string b) => string.Equals(a.Trim(), b.Trim(), StringComparison.OrdinalIgnoreCase);

    private static void Reject(string partialPath, string dest, string algorithm, string expected, string actual)
    {
        try { File.Delete(partialPath); } catch (IOException) { }
        throw new ChecksumMismatchException(dest, algorithm, expected, actual);
    }
}
