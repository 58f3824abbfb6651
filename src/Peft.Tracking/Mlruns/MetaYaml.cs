using System.Globalization;
using System.Text;
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

    // Plain when YAML reads it back as the same string; otherwise single-quoted as PyYAML does ('0', 'a b'); and
    // double-quoted with YAML escapes when a character may not appear as is: PyYAML's reader refuses anything outside
    // its printable set (C0/C1 controls, U+FFFE, U+FFFF, lone surrogates: "unacceptable character", and MLflow's
    // FileStore then fails to list every experiment of the folder), and folds the line breaks U+0085, U+2028, U+2029
    // (and tabs at line ends) inside single quotes, which would change the name.
    private static string FormatString(string s)
    {
        if (PlainScalar().IsMatch(s) && !YamlKeywords.Contains(s) && !s.EndsWith(':')) return s;
        if (!NeedsEscapes(s)) return "'" + s.Replace("'", "''") + "'";
        var text = new StringBuilder("\"");
        foreach (var rune in TrackingKeys.EnumerateCodePoints(s))
        {
            switch (rune)
            {
                case '"': text.Append("\\\""); break;
                case '\\': text.Append("\\\\"); break;
                case '\t': text.Append("\\t"); break;
                case '\n': text.Append("\\n"); break;
                case '\r': text.Append("\\r"); break;
                case var c when IsPrintable(c) && c is not (0x85 or 0x2028 or 0x2029):
                    text.Append(char.ConvertFromUtf32(c)); break;
                case var c when c <= 0xFF: text.Append(CultureInfo.InvariantCulture, $"\\x{c:X2}"); break;
                case var c when c <= 0xFFFF: text.Append(CultureInfo.InvariantCulture, $"\\u{c:X4}"); break;
                case var c: text.Append(CultureInfo.InvariantCulture, $"\\U{c:X8}"); break;
            }
        }
        return text.Append('"').ToString();
    }

    private static bool NeedsEscapes(string s) =>
        TrackingKeys.EnumerateCodePoints(s).Any(c => c is '\t' or '\n' or '\r' or 0x85 or 0x2028 or 0x2029 || !IsPrintable(c));

    /// <summary>PyYAML's reader.Reader.NON_PRINTABLE complement: what may appear in a YAML stream as is.</summary>
    private static bool IsPrintable(int c) =>
        c is 0x9 or 0xA or 0xD or (>= 0x20 and <= 0x7E) or 0x85 or (>= 0xA0 and <= 0xD7FF) or (>= 0xE000 and <= 0xFFFD) or (>= 0x10000 and <= 0x10FFFF);

    /// <summary>A YAML double-quoted scalar's content (escapes as YAML 1.1 and PyYAML's emitter write them).</summary>
    private static string UnescapeDoubleQuoted(string body)
    {
        var text = new StringBuilder();
        for (int i = 0; i < body.Length; i++)
        {
            char c = body[i];
            if (c != '\\' || i + 1 >= body.Length) { text.Append(c); continue; }
            char e = body[++i];
            int Hex(int digits)
            {
                int v = int.Parse(body.AsSpan(i + 1, digits), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                i += digits;
                return v;
            }
            switch (e)
            {
                case '0': text.Append('\0'); break;
                case 'a': text.Append('\a'); break;
                case 'b': text.Append('\b'); break;
                case 't' or '\t': text.Append('\t'); break;
                case 'n': text.Append('\n'); break;
                case 'v': text.Append('\v'); break;
                case 'f': text.Append('\f'); break;
                case 'r': text.Append('\r'); break;
                case 'e': text.Append('\x1B'); break;
                case ' ': break; // an escaped line break folded by Read into "\ ": nothing
                case 'N': text.Append('\u0085'); break;
                case '_': text.Append('\u00A0'); break;
                case 'L': text.Append('\u2028'); break;
                case 'P': text.Append('\u2029'); break;
                case 'x': text.Append((char)Hex(2)); break;
                case 'u': text.Append((char)Hex(4)); break;
                case 'U':
                    int cp = Hex(8);
                    text.Append(cp is >= 0xD800 and <= 0xDFFF ? ((char)cp).ToString() : char.ConvertFromUtf32(cp));
                    break;
                default: text.Append(e); break; // \" \\ \/
            }
        }
        return text.ToString();
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
            return UnescapeDoubleQuoted(raw[1..^1]);
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
