namespace Peft.Tracking.Mlruns;

/// <summary>Turns tracking URIs and <c>file:</c> artifact URIs into local paths and back.</summary>
public static class MlrunsPaths
{
    /// <summary>The mlruns folder of a <c>file:</c> URI or plain path (relative paths against the current folder).</summary>
    public static string RootOf(string uriOrPath)
    {
        if (string.IsNullOrWhiteSpace(uriOrPath)) throw new ArgumentException("the mlruns location is empty");
        if (uriOrPath.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
        {
            var local = LocalPathOfFileUri(uriOrPath)
                        ?? throw new ArgumentException($"'{uriOrPath}' is not a local file: URI (use file:///absolute/path or a plain path)");
            return Path.GetFullPath(local);
        }
        return Path.GetFullPath(uriOrPath);
    }

    /// <summary>The absolute <c>file:///…</c> URI of a local path, percent-encoded as MLflow writes it.</summary>
    public static string FileUriOf(string path) => new Uri(Path.GetFullPath(path)).AbsoluteUri;

    /// <summary>The local path of a <c>file:</c> URI (<c>file:///abs</c>, <c>file:/abs</c>, <c>file:relative</c>); null otherwise.</summary>
    public static string? LocalPathOfFileUri(string uri)
    {
        if (!uri.StartsWith("file:", StringComparison.OrdinalIgnoreCase)) return null;
        var rest = uri[5..];
        if (rest.StartsWith("//", StringComparison.Ordinal))
        {
            // file://host/path is remote unless the host is empty or localhost.
            var slash = rest.IndexOf('/', 2);
            var host = slash < 0 ? rest[2..] : rest[2..slash];
            if (host.Length > 0 && !host.Equals("localhost", StringComparison.OrdinalIgnoreCase)) return null;
            rest = slash < 0 ? "/" : rest[slash..];
        }
        return Uri.UnescapeDataString(rest);
    }
}
