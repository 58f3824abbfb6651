using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Peft.Tracking.Mlruns;

/// <summary>
/// The flat <c>meta.yaml</c> files of MLflow's FileStore (<c>key: scalar</c> lines, keys sorted as
/// <c>yaml.safe_dump</c> writes them). Values are strings, longs, null or the empty list; that is all these files
/// hold, so a full YAML library is not needed. Reading also accepts what PyYAML writes: single- and double-quoted
/// scalars and long quoted values folded onto indented continuation lines.
/// </summary>
internal static partial class MetaYaml
{
    /// <summary>Marks the legacy <c>tags: []</c> entry of a run's meta.yaml.</summary>
    public static readonly object EmptyList = new();

    [GeneratedRegex(@"^[A-Za-z/][A-Za-z0-9_./:+-]*$")]
    private static partial Regex PlainScalar();

    private static readonly HashSet<string> YamlKeywords = new(StringComparer.OrdinalIgnoreCase)
        { "y", "n", "yes", "no", "true", "false", "on", "off", "null", "nan", "inf" };

    private static readonly JsonSerializerOptions JsonStrings = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Write(IReadOnlyDictionary<string, object?> values)
    {
        var text = new StringBuilder();
        foreach (var (key, value) in values.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            text.Append(key).Append(": ").Append(Format(value)).Append('\n');
        return text.ToString();
    }

    private static string Format(object? value) => value switch
    {
        null => "null",
        long n => n.ToString(CultureInfo.InvariantCulture),
        int n => n.ToString(CultureInfo.InvariantCulture),
        string s => FormatString(s),
        _ when ReferenceEquals(value, EmptyList) => "[]",
        _ => throw new ArgumentException($"meta.yaml cannot hold a {value.GetType().Name}"),
    };

    // Plain when YAML reads it back as the same string; otherwise single-quoted as PyYAML does ('0', 'a b'), and
    // double-quoted with JSON's escaping (valid YAML syntax) when control characters need escapes.
    private static string FormatString(string s)
    {
        if (PlainScalar().IsMatch(s) && !YamlKeywords.Contains(s) && !s.EndsWith(':')) return s;
        if (!s.Any(char.IsControl)) return "'" + s.Replace("'", "''") + "'";
        return JsonSerializer.Serialize(s, JsonStrings);
    }

    /// <summary>Parses a meta.yaml; values come back as string, long, null or <see cref="EmptyList"/>.</summary>
    public static Dictionary<string, object?> Read(string text)
    {
        var result = new Dictionary<string, object?>(StringComparer.Ordinal);
        string? key = null;
        var raw = new StringBuilder();
        foreach (var line in text.Split('\n'))
        {
            var trimmedEnd = line.TrimEnd('\r');
            if (trimmedEnd.Length == 0 || trimmedEnd.TrimStart().StartsWith('#')) continue;
            if (char.IsWhiteSpace(trimmedEnd[0]) && key is not null)
            {
                raw.Append(' ').Append(trimmedEnd.Trim()); // continuation of a folded scalar
                continue;
            }
            if (key is not null) result[key] = ParseScalar(raw.ToString());
            int colon = trimmedEnd.IndexOf(": ", StringComparison.Ordinal);
            if (colon < 0 && trimmedEnd.EndsWith(':')) colon = trimmedEnd.Length - 1;
            if (colon <= 0) throw new InvalidDataException($"meta.yaml line '{trimmedEnd}' is not 'key: value'");
            key = trimmedEnd[..colon].Trim();
            raw.Clear().Append(trimmedEnd[(colon + 1)..].Trim());
        }
        if (key is not null) result[key] = ParseScalar(raw.ToString());
        return result;
    }

    private static object? ParseScalar(string raw)
    {
        if (raw is "" or "null" or "~" or "Null" or "NULL") return null;
        if (raw == "[]") return EmptyList;
        if (raw.StartsWith('\'') && raw.EndsWith('\'') && raw.Length >= 2) return raw[1..^1].Replace("''", "'");
        if (raw.StartsWith('"') && raw.EndsWith('"') && raw.Length >= 2)
            return JsonSerializer.Deserialize<string>(raw.Replace("\\ ", " ")); // a folded "\" line break leaves "\ "
        if (long.TryParse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n)) return n;
        return raw;
    }

    public static string? GetString(IReadOnlyDictionary<string, object?> meta, string key) => meta.GetValueOrDefault(key) switch
    {
        null => null,
        string s => s,
        long n => n.ToString(CultureInfo.InvariantCulture), // legacy integer experiment ids
        _ => null,
    };

    public static long? GetLong(IReadOnlyDictionary<string, object?> meta, string key) => meta.GetValueOrDefault(key) switch
    {
        long n => n,
        string s when long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) => n,
        _ => null,
    };
}
