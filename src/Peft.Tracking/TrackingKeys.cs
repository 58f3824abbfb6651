using System.Text.RegularExpressions;
using Peft.Core.Tracking;
using Peft.Core.Diagnostics;

namespace Peft.Tracking;

/// <summary>
/// MLflow's rules for metric, param and tag keys and its value limits (mlflow/utils/validation.py), checked on our
/// side so a bad key fails with its name before anything is written or sent. Keys become file paths in an mlruns
/// folder, which is why MLflow refuses anything that is not its own normalised relative path.
/// </summary>
public static partial class TrackingKeys
{
    public const int MaxKeyLength = 250;
    public const int MaxParamValueLength = 6000;
    public const int MaxTagValueLength = 8000;
    public const int MaxExperimentNameLength = 500;

    // The non-Windows server rule: letters, digits, _ - . space / and colon.
    [GeneratedRegex(@"^[/\w.\- :]*$")]
    private static partial Regex KeyPattern();

    /// <summary>Throws a <see cref="TrackingException"/> naming the key when MLflow would refuse it.</summary>
    public static void Validate(string key, string kind)
    {
        if (key is null) throw new TrackingException($"{kind} key is missing (null)", transient: false);
        if (CodePoints(key) > MaxKeyLength)
            throw new TrackingException($"{kind} key '{Shorten(key)}' is {CodePoints(key)} characters; MLflow allows at most {MaxKeyLength}", false);
        if (!KeyPattern().IsMatch(key))
            throw new TrackingException(
                $"{kind} key '{key}' is invalid: MLflow allows only letters, digits, underscores, dashes, periods, spaces, colons and slashes", false);
        var normal = PosixNormalize(key);
        if (normal != key || normal == "." || normal.StartsWith("..", StringComparison.Ordinal) || normal.StartsWith('/'))
            throw new TrackingException(
                $"{kind} key '{key}' is invalid: it must be a normalised relative path (no leading or trailing '/', no '//', '.' or '..' parts)", false);
    }

    /// <summary>A relative artifact path such as <c>weights/adapter.safetensors</c>: no empty, '.' or '..' parts, not absolute.</summary>
    public static void ValidateArtifactPath(string relativePath)
    {
        if (string.IsNullOrEmpty(relativePath)) throw new TrackingException("artifact path is empty", false);
        var parts = relativePath.Split('/');
        if (relativePath.Contains('\\') || relativePath.Contains('\0') || parts.Any(p => p is "" or "." or ".."))
            throw new TrackingException(
                $"artifact path '{relativePath}' is invalid: use a relative path with '/' separators and no empty, '.' or '..' parts", false);
        // MLflow's server unquotes artifact paths until they stop changing (validate_path_is_safe), so "%41" would be
        // stored as "A"; '#' and '?' end the path part of the URL; control characters are refused by its checks.
        if (relativePath.IndexOfAny(['%', '#', '?']) is >= 0 and var at)
            throw new TrackingException(
                $"artifact path '{relativePath}' is invalid: '{relativePath[at]}' is not allowed (an MLflow server would decode or cut the path)", false);
        if (relativePath.Any(char.IsControl))
            throw new TrackingException($"artifact path '{relativePath}' is invalid: it holds a control character", false);
    }

    public static void ValidateExperimentName(string name)
    {
        if (string.IsNullOrWhiteSpace(name)) throw new TrackingException("experiment name is empty", false);
        if (CodePoints(name) > MaxExperimentNameLength)
            throw new TrackingException($"experiment name '{Shorten(name)}' is {CodePoints(name)} characters; MLflow allows at most {MaxExperimentNameLength}", false);
    }

    /// <summary>
    /// MLflow's client truncates over-long param and tag values with a warning by default
    /// (MLFLOW_TRUNCATE_LONG_VALUES); we do the same, writing the warning to stderr. Lengths are Python's: code points,
    /// not UTF-16 units (an emoji is 1, not 2), and a surrogate pair is never split.
    /// </summary>
    public static string TruncateValue(string key, string value, int limit, string kind)
    {
        ArgumentNullException.ThrowIfNull(value, $"{kind} '{key}' value");
        int length = CodePoints(value);
        if (length <= limit) return value;
        PeftLog.Line(typeof(TrackingKeys).FullName!, $"warning: {kind} '{key}' value has {length} characters; truncated to MLflow's limit of {limit}.");
        return Prefix(value, limit);
    }

    /// <summary>The length of <paramref name="s"/> as Python's <c>len</c> counts it (a lone surrogate counts 1).</summary>
    public static int CodePoints(string s) => EnumerateCodePoints(s).Count();

    /// <summary>The first <paramref name="codePoints"/> code points of <paramref name="s"/> (Python's <c>s[:n]</c>).</summary>
    public static string Prefix(string s, int codePoints)
    {
        int length = 0;
        foreach (var c in EnumerateCodePoints(s).Take(codePoints)) length += c > 0xFFFF ? 2 : 1;
        return s[..length];
    }

    /// <summary>Code points of a UTF-16 string as Python sees them; a lone surrogate is its own code point.</summary>
    internal static IEnumerable<int> EnumerateCodePoints(string s)
    {
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                yield return char.ConvertToUtf32(s[i], s[i + 1]);
                i++;
            }
            else yield return s[i];
        }
    }

    /// <summary>Python's <c>posixpath.normpath</c>.</summary>
    internal static string PosixNormalize(string path)
    {
        if (path.Length == 0) return ".";
        int leadingSlashes = path.StartsWith("//", StringComparison.Ordinal) && !path.StartsWith("///", StringComparison.Ordinal) ? 2
            : path.StartsWith('/') ? 1 : 0;
        var parts = new List<string>();
        foreach (var part in path.Split('/'))
        {
            if (part is "" or ".") continue;
            if (part != ".." || (leadingSlashes == 0 && parts.Count == 0) || (parts.Count > 0 && parts[^1] == ".."))
                parts.Add(part);
            else if (parts.Count > 0)
                parts.RemoveAt(parts.Count - 1);
        }
        var joined = new string('/', leadingSlashes) + string.Join('/', parts);
        return joined.Length == 0 ? "." : joined;
    }

    private static string Shorten(string s) => CodePoints(s) <= 60 ? s : Prefix(s, 57) + "...";
}
