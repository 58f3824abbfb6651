using System.Globalization;
using System.Text;

namespace Peft.Clip.Text;

/// <summary>
/// Python's <c>html.unescape</c>, reproduced exactly. <see cref="System.Net.WebUtility.HtmlDecode"/> is not a
/// substitute: it knows only the HTML 4 entities and no semicolon-less forms such as <c>&amp;amp</c> or the
/// longest-prefix rule (<c>&amp;notit;</c> → <c>¬it;</c>), nor the HTML5 remapping of numeric references.
/// </summary>
internal static class PythonHtml
{
    /// <summary>Named references (with or without the trailing ';') → value, from <see cref="Html5Entities"/>.</summary>
    internal static readonly Dictionary<string, string> Html5;

    /// <summary>For all-lowercase names ending in ';': Python's <c>value.upper()</c> (used by ftfy).</summary>
    internal static readonly Dictionary<string, string> Html5Upper;

    static PythonHtml()
    {
        Html5 = new Dictionary<string, string>(StringComparer.Ordinal);
        Html5Upper = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in Html5Entities.Table.Split('\n'))
        {
            var cols = line.Split('\t');
            Html5[cols[0]] = Decode(cols[1]);
            if (cols.Length > 2) Html5Upper[cols[0]] = Decode(cols[2]);
        }

        static string Decode(string hex)
        {
            var sb = new StringBuilder();
            foreach (var h in hex.Split(' '))
                sb.Append(char.ConvertFromUtf32(int.Parse(h, NumberStyles.HexNumber, CultureInfo.InvariantCulture)));
            return sb.ToString();
        }
    }

    /// <summary>Windows-1252 meanings of 0x80-0x9F (undefined ones stay as the C1 control), as HTML5 specifies.</summary>
    internal static readonly string[] Windows1252C1 =
    [
        "\u20ac", "\x81", "\u201a", "\u0192", "\u201e", "\u2026", "\u2020", "\u2021",
        "\u02c6", "\u2030", "\u0160", "\u2039", "\u0152", "\x8d", "\u017d", "\x8f",
        "\x90", "\u2018", "\u2019", "\u201c", "\u201d", "\u2022", "\u2013", "\u2014",
        "\u02dc", "\u2122", "\u0161", "\u203a", "\u0153", "\x9d", "\u017e", "\u0178",
    ];

    /// <summary>Python <c>html.unescape</c>.</summary>
    internal static string Unescape(string s)
    {
        int amp = s.IndexOf('&');
        if (amp < 0) return s;
        var sb = new StringBuilder(s.Length);
        sb.Append(s, 0, amp);
        int i = amp;
        while (i < s.Length)
        {
            if (s[i] != '&')
            {
                sb.Append(s[i++]);
                continue;
            }
            int end = MatchCharRef(s, i + 1);
            if (end < 0)
            {
                sb.Append('&');
                i++;
                continue;
            }
            sb.Append(ReplaceCharRef(s[(i + 1)..end]));
            i = end;
        }
        return sb.ToString();
    }

    // The group of  &(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)  starting at `start`: its end, or -1.
    private static int MatchCharRef(string s, int start)
    {
        int n = s.Length, j;
        if (start < n && s[start] == '#')
        {
            j = start + 1;
            while (j < n && char.IsAsciiDigit(s[j])) j++;
            if (j > start + 1) return j < n && s[j] == ';' ? j + 1 : j;
            if (start + 1 < n && (s[start + 1] is 'x' or 'X'))
            {
                j = start + 2;
                while (j < n && char.IsAsciiHexDigit(s[j])) j++;
                if (j > start + 2) return j < n && s[j] == ';' ? j + 1 : j;
            }
            return -1; // '#' is excluded from the named form
        }
        j = start;
        int count = 0;
        while (j < n && count < 32 && s[j] is not ('\t' or '\n' or '\f' or ' ' or '<' or '&' or '#' or ';'))
        {
            j += char.IsHighSurrogate(s[j]) && j + 1 < n && char.IsLowSurrogate(s[j + 1]) ? 2 : 1; // Python counts code points
            count++;
        }
        if (count == 0) return -1;
        return j < n && s[j] == ';' ? j + 1 : j;
    }

    private static string ReplaceCharRef(string g)
    {
        if (g[0] == '#')
        {
            bool hex = g[1] is 'x' or 'X';
            var digits = g.AsSpan(hex ? 2 : 1).TrimEnd(';');
            long num = 0;
            foreach (char c in digits)
            {
                num = num * (hex ? 16 : 10) + (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
                if (num > 0x10FFFF) { num = 0x110000; break; } // any larger value behaves the same
            }
            if (num == 0) return "\uFFFD";
            if (num == 0x0D) return "\r";
            if (num is >= 0x80 and <= 0x9F) return Windows1252C1[num - 0x80];
            if (num is >= 0xD800 and <= 0xDFFF || num > 0x10FFFF) return "\uFFFD";
            if (IsInvalidCodePoint((int)num)) return "";
            return char.ConvertFromUtf32((int)num);
        }
        if (Html5.TryGetValue(g, out var value)) return value;
        // The longest entity name that prefixes g (at least two characters), as the HTML5 standard defines.
        for (int x = g.Length - 1; x > 1; x--)
            if (Html5.TryGetValue(g[..x], out value)) return value + g[x..];
        return "&" + g;
    }

    // Python's html._invalid_codepoints (0x80-0x9F are handled before this is consulted).
    private static bool IsInvalidCodePoint(int cp) =>
        cp is >= 0x1 and <= 0x8 or 0xB or >= 0xE and <= 0x1F or >= 0x7F and <= 0x9F or >= 0xFDD0 and <= 0xFDEF
        || (cp & 0xFFFE) == 0xFFFE;
}
