using System.Globalization;
using System.Text;

namespace Peft.Clip.Text;

/// <summary>
/// The default <c>ftfy.fix_text</c> (ftfy 6.3) pipeline that CLIP's <c>basic_clean</c> runs, minus mojibake repair.
/// </summary>
/// <remarks>
/// <para>Implemented exactly, in ftfy's order and repeated until the text stops changing: per-line segments (a
/// segment containing '&lt;' turns entity decoding off for the rest of the text), <c>unescape_html</c>
/// (HTML5 entities ending in ';', upper-cased Latin ones such as <c>&amp;EACUTE;</c>, numeric references),
/// <c>fix_c1_controls</c>, <c>fix_latin_ligatures</c>, <c>fix_character_width</c>, <c>uncurl_quotes</c>,
/// <c>fix_line_breaks</c>, <c>fix_surrogates</c>, <c>remove_terminal_escapes</c>, <c>remove_control_chars</c>
/// and NFC normalisation.</para>
/// <para>Not implemented: <c>fix_encoding</c>, ftfy's heuristic mojibake repair (a "badness" score over large
/// character tables that decides whether to re-decode text through single-byte codecs, e.g. "schÃ¶n" → "schön").
/// Text that looks like mojibake is therefore tokenised as written; on clean text the heuristic never fires.
/// The fixtures mark the cases where it matters (see tools/reference/make_tokenizer_fixtures.py).</para>
/// </remarks>
internal static class Ftfy
{
    private const int MaxSegmentCodePoints = 1_000_000; // ftfy's max_decode_length

    /// <summary>ftfy's LIGATURES: Latin typographic ligatures and legacy digraphs, split into letters.</summary>
    private static readonly Dictionary<char, string> Ligatures = new()
    {
        ['Ĳ'] = "IJ", ['ĳ'] = "ij", ['ŉ'] = "ʼn",
        ['Ǳ'] = "DZ", ['ǲ'] = "Dz", ['ǳ'] = "dz", ['Ǆ'] = "DŽ", ['ǅ'] = "Dž", ['ǆ'] = "dž",
        ['Ǉ'] = "LJ", ['ǈ'] = "Lj", ['ǉ'] = "lj", ['Ǌ'] = "NJ", ['ǋ'] = "Nj", ['ǌ'] = "nj",
        ['ﬀ'] = "ff", ['ﬁ'] = "fi", ['ﬂ'] = "fl", ['ﬃ'] = "ffi", ['ﬄ'] = "ffl", ['ﬅ'] = "ſt", ['ﬆ'] = "st",
    };

    /// <summary>U+3000 → space, and each of U+FF01..U+FFEF → its NFKC form where that differs.</summary>
    private static readonly Dictionary<char, string> WidthMap = BuildWidthMap();

    /// <summary>ftfy's HTML_ENTITIES: "&amp;name;" → value, plus upper-cased spellings that html.unescape ignores.</summary>
    private static readonly Dictionary<string, string> Entities = BuildEntities();

    /// <summary><c>ftfy.fix_text(text)</c> with default settings, except mojibake repair (see remarks).</summary>
    internal static string FixText(string text)
    {
        var sb = new StringBuilder(text.Length);
        bool unescapeHtml = true; // "auto"
        int pos = 0;
        while (pos < text.Length)
        {
            int nl = text.IndexOf('\n', pos);
            int end = nl < 0 ? text.Length : nl + 1;
            end = Math.Min(end, AdvanceCodePoints(text, pos, MaxSegmentCodePoints));
            string segment = text[pos..end];
            // As in ftfy, once a segment looks like real HTML, entities stay undecoded for the rest of the text.
            if (unescapeHtml && segment.Contains('<')) unescapeHtml = false;
            sb.Append(FixSegment(segment, unescapeHtml));
            pos = end;
        }
        return sb.ToString();
    }

    private static string FixSegment(string text, bool unescapeHtml)
    {
        while (true)
        {
            string original = text;
            if (unescapeHtml) text = UnescapeHtml(text);
            text = FixC1Controls(text);
            text = Translate(text, Ligatures);
            text = Translate(text, WidthMap);
            text = UncurlQuotes(text);
            text = FixLineBreaks(text);
            text = FixSurrogates(text);
            text = RemoveTerminalEscapes(text);
            text = RemoveControlChars(text);
            text = text.Normalize(NormalizationForm.FormC);
            if (text == original) return text;
        }
    }

    /// <summary>ftfy's <c>unescape_html</c>: replaces <c>&amp;#?[0-9A-Za-z]{1,24};</c> when it is a known entity.</summary>
    internal static string UnescapeHtml(string text)
    {
        if (!text.Contains('&')) return text;
        var sb = new StringBuilder(text.Length);
        int i = 0;
        while (i < text.Length)
        {
            int end = text[i] == '&' ? MatchEntity(text, i) : -1;
            if (end < 0)
            {
                sb.Append(text[i++]);
                continue;
            }
            string match = text[i..end];
            if (Entities.TryGetValue(match, out var value)) sb.Append(value);
            else if (match.StartsWith("&#", StringComparison.Ordinal))
            {
                // A numeric reference counts only if html.unescape consumed the whole of it, semicolon included.
                string unescaped = PythonHtml.Unescape(match);
                sb.Append(unescaped.Contains(';') ? match : unescaped);
            }
            else sb.Append(match);
            i = end;
        }
        return sb.ToString();
    }

    private static int MatchEntity(string s, int amp)
    {
        int j = amp + 1;
        if (j < s.Length && s[j] == '#') j++;
        int k = j;
        while (k < s.Length && k - j < 25 && char.IsAsciiLetterOrDigit(s[k])) k++;
        int run = k - j;
        return run is >= 1 and <= 24 && k < s.Length && s[k] == ';' ? k + 1 : -1;
    }

    private static string FixC1Controls(string text)
    {
        if (!text.Any(c => c is >= '\x80' and <= '\x9f')) return text;
        var sb = new StringBuilder(text.Length);
        foreach (char c in text)
            sb.Append(c is >= '\x80' and <= '\x9f' ? PythonHtml.Windows1252C1[c - 0x80] : c.ToString());
        return sb.ToString();
    }

    private static string UncurlQuotes(string text)
    {
        var chars = text.ToCharArray();
        for (int i = 0; i < chars.Length; i++)
        {
            if (chars[i] is '\u02bc' or >= '\u2018' and <= '\u201b') chars[i] = '\'';
            else if (chars[i] is >= '\u201c' and <= '\u201f') chars[i] = '"';
        }
        return new string(chars);
    }

    private static string FixLineBreaks(string text) =>
        text.Replace("\r\n", "\n").Replace('\r', '\n').Replace('\u2028', '\n').Replace('\u2029', '\n').Replace('\u0085', '\n');

    /// <summary>Unpaired UTF-16 surrogates become U+FFFD (pairs are already whole characters in .NET).</summary>
    private static string FixSurrogates(string text)
    {
        if (!text.Any(char.IsSurrogate)) return text;
        var chars = text.ToCharArray();
        for (int i = 0; i < chars.Length; i++)
        {
            if (char.IsHighSurrogate(chars[i]) && i + 1 < chars.Length && char.IsLowSurrogate(chars[i + 1])) i++;
            else if (char.IsSurrogate(chars[i])) chars[i] = '\uFFFD';
        }
        return new string(chars);
    }

    /// <summary>Removes ANSI escapes <c>\x1b\[(\d|;)*[a-zA-Z]</c> (Python's <c>\d</c>: any decimal digit).</summary>
    private static string RemoveTerminalEscapes(string text)
    {
        int esc = text.IndexOf('\x1b');
        if (esc < 0) return text;
        var sb = new StringBuilder(text.Length);
        sb.Append(text, 0, esc);
        int i = esc;
        while (i < text.Length)
        {
            if (text[i] == '\x1b' && i + 1 < text.Length && text[i + 1] == '[')
            {
                int j = i + 2;
                while (j < text.Length)
                {
                    int cp = PythonUnicode.CodePointAt(text, j, out int w);
                    if (cp != ';' && CharUnicodeInfo.GetUnicodeCategory(cp) != UnicodeCategory.DecimalDigitNumber) break;
                    j += w;
                }
                if (j < text.Length && char.IsAsciiLetter(text[j]))
                {
                    i = j + 1;
                    continue;
                }
            }
            sb.Append(text[i++]);
        }
        return sb.ToString();
    }

    /// <summary>Deletes C0 controls except \t \n \f \r, DEL, deprecated Arabic format controls, BOM and U+FFF9..U+FFFC.</summary>
    private static string RemoveControlChars(string text)
    {
        if (!text.Any(IsRemovedControl)) return text;
        var sb = new StringBuilder(text.Length);
        foreach (char c in text)
            if (!IsRemovedControl(c)) sb.Append(c);
        return sb.ToString();
    }

    private static bool IsRemovedControl(char c) =>
        c is <= '\x08' or '\x0b' or >= '\x0e' and <= '\x1f' or '\x7f' or >= '\u206a' and <= '\u206f' or '\ufeff'
            or >= '\ufff9' and <= '\ufffc';

    private static string Translate(string text, Dictionary<char, string> map)
    {
        if (!text.Any(map.ContainsKey)) return text;
        var sb = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            if (map.TryGetValue(c, out var s)) sb.Append(s);
            else sb.Append(c);
        }
        return sb.ToString();
    }

    private static Dictionary<char, string> BuildWidthMap()
    {
        var map = new Dictionary<char, string> { ['\u3000'] = " " };
        for (char c = '\uff01'; c < '\ufff0'; c++)
        {
            string alt = c.ToString().Normalize(NormalizationForm.FormKC);
            if (alt != c.ToString()) map[c] = alt;
        }
        return map;
    }

    private static Dictionary<string, string> BuildEntities()
    {
        var entities = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in PythonHtml.Html5)
        {
            if (!name.EndsWith(';')) continue;
            entities["&" + name] = value;
            // Upper-cased spellings of lower-case names, unless html.unescape already gives them a meaning.
            if (PythonHtml.Html5Upper.TryGetValue(name, out var upperValue))
            {
                string upper = "&" + name.ToUpperInvariant();
                if (PythonHtml.Unescape(upper) == upper) entities[upper] = upperValue;
            }
        }
        return entities;
    }

    private static int AdvanceCodePoints(string s, int pos, int count)
    {
        for (int n = 0; n < count && pos < s.Length; n++)
            pos += char.IsHighSurrogate(s[pos]) && pos + 1 < s.Length && char.IsLowSurrogate(s[pos + 1]) ? 2 : 1;
        return pos;
    }
}
