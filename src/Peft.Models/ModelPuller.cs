using System.Globalization;
using Peft.Terminal;

namespace Peft.Models;

/// <summary>Where <see cref="ModelPuller"/> downloads from and to.</summary>
public sealed class ModelPullOptions
{
    public const string OpenAiBaseUrlVariable = "PEFT_OPENAI_CLIP_BASE_URL";
    public const string DefaultHuggingFaceEndpoint = "https://huggingface.co";

    /// <summary>The cache folder (see <see cref="ModelCache"/>).</summary>
    public required string CacheRoot { get; init; }
    /// <summary>Base of the OpenAI addresses: <c>{base}/{sha256}/{file}</c>.</summary>
    public Uri OpenAiBaseUrl { get; init; } = new(ModelCatalog.DefaultOpenAiBaseUrl);
    /// <summary>Hugging Face endpoint: files come from <c>{endpoint}/{id}/resolve/{revision}/{file}</c>.</summary>
    public Uri HuggingFaceEndpoint { get; init; } = new(DefaultHuggingFaceEndpoint);
    /// <summary>Access token sent as <c>Authorization: Bearer</c> to the Hugging Face endpoint only.</summary>
    public string? HuggingFaceToken { get; init; }
    public DownloadOptions Download { get; init; } = new();

    /// <summary>
    /// Options from the environment, as the command line uses them: cache <paramref name="cacheDir"/> or
    /// <see cref="ModelCache.DefaultRoot"/>; <c>PEFT_OPENAI_CLIP_BASE_URL</c> (OpenAI base address),
    /// <c>HF_ENDPOINT</c> (Hugging Face base address, as huggingface_hub reads it), <c>HF_TOKEN</c>
    /// (or the older <c>HUGGING_FACE_HUB_TOKEN</c>).
    /// </summary>
    public static ModelPullOptions FromEnvironment(string? cacheDir = null, Func<string, string?>? env = null)
    {
        env ??= Environment.GetEnvironmentVariable;
        return new ModelPullOptions
        {
            CacheRoot = string.IsNullOrWhiteSpace(cacheDir) ? ModelCache.DefaultRoot(env) : Path.GetFullPath(cacheDir),
            OpenAiBaseUrl = ParseUrl(env(OpenAiBaseUrlVariable), OpenAiBaseUrlVariable) ?? new Uri(ModelCatalog.DefaultOpenAiBaseUrl),
            HuggingFaceEndpoint = ParseUrl(env("HF_ENDPOINT"), "HF_ENDPOINT") ?? new Uri(DefaultHuggingFaceEndpoint),
            HuggingFaceToken = NonEmpty(env("HF_TOKEN")) ?? NonEmpty(env("HUGGING_FACE_HUB_TOKEN")),
        };
    }

    private static string? NonEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();

    private static Uri? ParseUrl(string? value, string variable)
    {
        if (string.IsNullOrWhiteSpace(value)) return null;
        if (!Uri.TryCreate(value.Trim(), UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
            throw new ArgumentException($"{variable}='{value}' is not an http(s) address.");
        return uri;
    }
}

/// <summary>What a pull produced.</summary>
/// <param name="Path">The file (OpenAI <c>.pt</c>) or folder (Hugging Face) to give to <c>peft encode --model</c>.</param>
/// <param name="Commit">The Hugging Face commit the revision pointed to, when the server said.</param>
public sealed record PullResult(ModelSource Source, string Path, IReadOnlyList<DownloadResult> Files, string? Commit = null);

/// <summary>
/// <c>peft models pull</c>: resolves a model name (<see cref="ModelCatalog.Resolve"/>) and downloads it into the
/// cache (<see cref="ModelCache"/>) with <see cref="ResumableDownloader"/>, verifying checksums.
/// </summary>
public sealed class ModelPuller : IDisposable
{
    /// <summary>Files of a Hugging Face CLIP repository: required ones first, then optional ones (skipped when the
    /// repository does not have them), the weights last.</summary>
    public static IReadOnlyList<(string File, bool Required)> HuggingFaceFiles { get; } =
    [
        ("config.json", true),
        ("vocab.json", false),
        ("merges.txt", false),
        ("preprocessor_config.json", false),
        ("tokenizer_config.json", false),
        ("special_tokens_map.json", false),
        ("model.safetensors", true),
    ];

    private static readonly Dictionary<string, string> HuggingFaceEquivalent = new()
    {
        ["ViT-B/32"] = "openai/clip-vit-base-patch32",
        ["ViT-B/16"] = "openai/clip-vit-base-patch16",
        ["ViT-L/14"] = "openai/clip-vit-large-patch14",
        ["ViT-L/14@336px"] = "openai/clip-vit-large-patch14-336",
    };

    private readonly ModelPullOptions _options;
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly ResumableDownloader _downloader;
    private readonly TextWriter? _log;

    /// <param name="http">A client that does not follow redirects (default: <see cref="ResumableDownloader.CreateHttpClient"/>).</param>
    /// <param name="progress">Progress reporter per file (label, total bytes when known), e.g. a <see cref="ConsoleProgress"/>;
    /// may return null for no progress on that file.</param>
    /// <param name="log">Messages (resuming, retrying, skipped files).</param>
    public ModelPuller(ModelPullOptions options, HttpClient? http = null,
        Func<string, long?, IProgressReporter?>? progress = null, TextWriter? log = null)
    {
        _options = options;
        _ownsHttp = http is null;
        _http = http ?? ResumableDownloader.CreateHttpClient();
        _log = log;
        _downloader = new ResumableDownloader(_http, options.Download, progress, log);
    }

    public ModelPullOptions Options => _options;

    public Task<PullResult> PullAsync(string name, string? revision = null, CancellationToken ct = default) =>
        ModelCatalog.Resolve(name, revision) switch
        {
            OpenAiClipSource m => PullOpenAiAsync(m, ct),
            HuggingFaceSource h => PullHuggingFaceAsync(h, ct),
            var other => throw new UnknownModelException($"Cannot pull {other}."),
        };

    public async Task<PullResult> PullOpenAiAsync(OpenAiClipSource model, CancellationToken ct = default)
    {
        var dest = ModelCache.OpenAiPath(_options.CacheRoot, model);
        var url = model.Url(_options.OpenAiBaseUrl);
        try
        {
            var result = await _downloader.DownloadAsync(
                new DownloadRequest(url, dest) { Sha256 = model.Sha256, Label = Path.GetFileName(dest) }, ct).ConfigureAwait(false);
            return new PullResult(model, result.Path, [result]);
        }
        catch (ModelDownloadException ex) when (ex.StatusCode is 403 or 404 or 410)
        {
            var alt = HuggingFaceEquivalent.TryGetValue(model.Name, out var id) ? $" (for {model.Name}: {id})" : "";
            throw new ModelDownloadException(
                $"{ex.Message} OpenAI's download address may have moved (openai/CLIP issue #516 reports 404s). Set " +
                $"{ModelPullOptions.OpenAiBaseUrlVariable} to a mirror with the same {{sha256}}/{{file}} layout, or pull " +
                $"the Hugging Face weights instead{alt}.", ex) { StatusCode = ex.StatusCode };
        }
    }

    public async Task<PullResult> PullHuggingFaceAsync(HuggingFaceSource model, CancellationToken ct = default)
    {
        var folder = ModelCache.HuggingFaceDirectory(_options.CacheRoot, model);
        var results = new List<DownloadResult>();
        string? commit = null;
        foreach (var (file, required) in HuggingFaceFiles)
        {
            var url = ResolveUrl(model, file);
            var dest = Path.Combine(folder, file);
            var label = $"{model.RepoId}/{file}";
            HuggingFaceFileInfo? info;
            try
            {
                info = await _downloader.RetryAsync(label, () => HeadAsync(model, file, url, ct), ct).ConfigureAwait(false);
            }
            catch (ModelDownloadException ex) when (ex.IsNetworkError && File.Exists(dest))
            {
                _log?.WriteLine($"{label}: cannot reach {_options.HuggingFaceEndpoint.Authority} ({ex.Message}); using the cached copy, not re-checked.");
                results.Add(new DownloadResult(dest, new FileInfo(dest).Length, "", AlreadyPresent: true, 0, Verified: false));
                continue;
            }
            if (info is null)
            {
                if (required)
                    throw new ModelDownloadException(
                        $"{model.RepoId}@{model.Revision} has no {file}" +
                        (file == "model.safetensors" ? " (only safetensors weights are supported)." : "."))
                    { StatusCode = 404 };
                _log?.WriteLine($"{label}: not in the repository; skipped.");
                continue;
            }
            commit ??= info.Commit;
            var request = new DownloadRequest(url, dest)
            {
                Sha256 = info.Sha256,
                GitSha1 = info.Sha256 is null ? info.GitSha1 : null,
                Size = info.Size,
                Authorization = Authorization,
                Label = label,
            };
            results.Add(await _downloader.DownloadAsync(request, ct).ConfigureAwait(false));
        }
        return new PullResult(model, folder, results, commit);
    }

    private string? Authorization => _options.HuggingFaceToken is { } t ? "Bearer " + t : null;

    /// <summary><c>{endpoint}/{id}/resolve/{revision}/{file}</c> (the revision escaped as one path segment).</summary>
    public Uri ResolveUrl(HuggingFaceSource model, string file)
    {
        var baseUrl = ModelCatalog.WithSlash(_options.HuggingFaceEndpoint);
        return new Uri(baseUrl, $"{model.RepoId}/resolve/{Uri.EscapeDataString(model.Revision)}/{file}");
    }

    /// <summary>What Hugging Face says about a file before it is downloaded.</summary>
    private sealed record HuggingFaceFileInfo(string? Sha256, string? GitSha1, long? Size, string? Commit);

    /// <summary>HEAD of the resolve address, following only same-host redirects (as huggingface_hub does): LFS files
    /// answer with a redirect to a CDN carrying <c>X-Linked-ETag</c> (the SHA-256) and <c>X-Linked-Size</c>; other
    /// files answer 200 with their git blob SHA-1 as ETag. Null when the repository has no such file.</summary>
    private async Task<HuggingFaceFileInfo?> HeadAsync(HuggingFaceSource model, string file, Uri url, CancellationToken ct)
    {
        // Stop at the redirect that carries the LFS metadata even when it points to the same host (mirrors).
        using var response = await _downloader.SendAsync(HttpMethod.Head, url, Authorization, null, followCrossHost: false, ct,
            stopAtRedirect: r => Header(r, "X-Linked-ETag") is not null).ConfigureAwait(false);
        int status = (int)response.StatusCode;
        var errorCode = Header(response, "X-Error-Code");
        if (status is 401 or 403 || errorCode is "RepoNotFound" or "GatedRepo")
            throw new ModelDownloadException(
                $"Hugging Face repository {model.RepoId} was not found or is not accessible (HTTP {status}" +
                (errorCode is null ? "" : ", " + errorCode) + "). Check the id; for a private or gated repository set HF_TOKEN " +
                "to an access token that may read it.") { StatusCode = status };
        if (errorCode is "RevisionNotFound")
            throw new ModelDownloadException($"Hugging Face repository {model.RepoId} has no revision '{model.Revision}'.") { StatusCode = status };
        if (status == 404) return null;
        if (status is not (>= 200 and < 300) and not (>= 300 and < 400))
            throw ResumableDownloader.ErrorFor(response, url, $"{model.RepoId}/{file}");

        var etag = Normalize(Header(response, "X-Linked-ETag")) ?? Normalize(Header(response, "ETag"));
        string? sha256 = etag is { Length: 64 } && IsHex(etag) ? etag.ToLowerInvariant() : null;
        string? gitSha1 = etag is { Length: 40 } && IsHex(etag) ? etag.ToLowerInvariant() : null;
        long? size = long.TryParse(Header(response, "X-Linked-Size"), NumberStyles.None, CultureInfo.InvariantCulture, out var s)
            ? s
            : status is >= 200 and < 300 ? response.Content.Headers.ContentLength : null;
        return new HuggingFaceFileInfo(sha256, gitSha1, size, Header(response, "X-Repo-Commit"));
    }

    private static string? Header(HttpResponseMessage r, string name) =>
        r.Headers.TryGetValues(name, out var v) ? v.FirstOrDefault()
        : r.Content.Headers.TryGetValues(name, out var c) ? c.FirstOrDefault() : null;

    private static string? Normalize(string? etag)
    {
        if (string.IsNullOrWhiteSpace(etag)) return null;
        var e = etag.Trim();
        if (e.StartsWith("W/", StringComparison.Ordinal)) return null; // a weak ETag is no checksum
        return e.Trim('"');
    }

    private static bool IsHex(string s) => s.All(Uri.IsHexDigit);

    public void Dispose()
    {
        if (_ownsHttp) _http.Dispose();
    }
}
