using System.Globalization;
using System.Text;

namespace Peft.Data.Splits;

/// <summary>
/// JSON text written the way Python's <c>json</c> module writes it, for the two outputs that must match Python byte for
/// byte: a manifest's canonical form (<c>json.dumps(obj, ensure_ascii=False, separators=(",", ":"))</c>) and CoOp's
/// split files (Dassl's <c>write_json</c>: <c>json.dump(obj, f, indent=4, separators=(",", ": "))</c>, ASCII-only).
/// </summary>
static class PyJson
{
    /// <summary>
    /// A JSON string literal as Python's encoder writes it: <c>"</c> and <c>\</c> and the C0 controls are always escaped
    /// (<c>\" \\ \b \f \n \r \t</c>, the other controls as <c>\u00xx</c>, lower-case hex); with <paramref name="ensureAscii"/>
    /// every character outside ' '..'~' is escaped as <c>\uxxxx</c> too (UTF-16 code units, so astral characters become a
    /// surrogate pair). Nothing else ('/', U+007F without ensureAscii, ...) is escaped.
    /// </summary>
    public static void WriteString(StringBuilder sb, string s, bool ensureAscii)
    {
        sb.Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c < 0x20 || (ensureAscii && c > 0x7e))
                        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else
                        sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }

    public static string Quote(string s, bool ensureAscii)
    {
        var sb = new StringBuilder(s.Length + 2);
        WriteString(sb, s, ensureAscii);
        return sb.ToString();
    }

    /// <summary>UTF-8 without a byte-order mark that refuses unpaired surrogates (Python cannot encode them either).</summary>
    public static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
}
