using System.Security.Cryptography;
using Peft.Models;

namespace Peft.Tests.Models;

/// <summary>A temporary cache folder, deterministic "checkpoint" bytes and fast download options.</summary>
public abstract class ModelTestBase : IDisposable
{
    protected ModelTestBase()
    {
        Root = Path.Combine(Path.GetTempPath(), "peft-models-test-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
    }

    protected string Root { get; }
    protected StringWriter Log { get; } = new();

    /// <summary>Few retries, short waits: tests stay fast but still exercise the backoff path.</summary>
    protected static DownloadOptions FastOptions => new()
    {
        MaxAttempts = 3,
        InitialBackoff = TimeSpan.FromMilliseconds(10),
        MaxBackoff = TimeSpan.FromMilliseconds(50),
        ResponseTimeout = TimeSpan.FromSeconds(10),
        ReadTimeout = TimeSpan.FromSeconds(10),
    };

    /// <summary>A few hundred KB of bytes that are the same on every run.</summary>
    protected static byte[] Checkpoint(int length = 300_000, int seed = 1)
    {
        var bytes = new byte[length];
        uint x = (uint)seed * 2654435761u + 1;
        for (int i = 0; i < length; i++)
        {
            x ^= x << 13; x ^= x >> 17; x ^= x << 5;
            bytes[i] = (byte)x;
        }
        return bytes;
    }

    protected static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    protected ModelPuller Puller(Uri? openAiBase = null, Uri? hfEndpoint = null, string? token = null, DownloadOptions? options = null) =>
        new(new ModelPullOptions
        {
            CacheRoot = Root,
            OpenAiBaseUrl = openAiBase ?? new Uri("http://127.0.0.1:9/unused/"),
            HuggingFaceEndpoint = hfEndpoint ?? new Uri("http://127.0.0.1:9/"),
            HuggingFaceToken = token,
            Download = options ?? FastOptions,
        }, log: Log);

    protected ResumableDownloader Downloader(HttpClient http, DownloadOptions? options = null) =>
        new(http, options ?? FastOptions, log: Log);

    protected static string[] FilesUnder(string dir) =>
        Directory.Exists(dir)
            ? Directory.GetFiles(dir, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(dir, f)).Order(StringComparer.Ordinal).ToArray()
            : [];

    public virtual void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
        GC.SuppressFinalize(this);
    }
}
