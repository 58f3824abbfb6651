namespace Peft.Clip.Text;

/// <summary>
/// CLIP's text normalisation and pre-tokenisation (openai/CLIP <c>simple_tokenizer.py</c>):
/// <c>whitespace_clean(basic_clean(text)).lower()</c>, then the pre-tokeniser regex.
/// </summary>
internal static class ClipTextCleaner
{
    internal const string StartOfTextToken = "<|startoftext|>";
    internal const string EndOfTextToken = "<|endoftext|>";

    /// <summary>ftfy → <c>html.unescape</c> twice → strip → collapse <c>\s+</c> → strip → <c>lower()</c>.</summary>
    internal static string Normalize(string text)
    {
        text = Ftfy.FixText(text);
        text = PythonHtml.Unescape(PythonHtml.Unescape(text));
        text = PythonUnicode.Strip(text);
        text = PythonUnicode.Strip(PythonUnicode.CollapseWhitespace(text));
        return PythonUnicode.Lower(text);
    }

    /// <summary>
    /// <c>regex.findall</c> of
    /// <c>&lt;\|startoftext\|&gt;|&lt;\|endoftext\|&gt;|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+</c>
    /// with IGNORECASE, on normalised text. Code points that match no alternative (whitespace, and U+0345 which
    /// IGNORECASE puts in neither class) are skipped.
    /// </summary>
    internal static List<string> PreTokenize(string text)
    {
        var tokens = new List<string>();
        int i = 0;
        while (i < text.Length)
        {
            int len = MatchLiteral(text, i, StartOfTextToken);
            if (len == 0) len = MatchLiteral(text, i, EndOfTextToken);
            if (len == 0) len = MatchContraction(text, i);
            if (len > 0)
            {
                tokens.Add(text.Substring(i, len));
                i += len;
                continue;
            }
            int cp = PythonUnicode.CodePointAt(text, i, out int w);
            if (PythonUnicode.IsLetter(cp)) len = Run(text, i, PythonUnicode.IsLetter);
            else if (PythonUnicode.IsNumber(cp)) len = w;
            else if (PythonUnicode.IsOther(cp)) len = Run(text, i, PythonUnicode.IsOther);
            if (len > 0)
            {
                tokens.Add(text.Substring(i, len));
                i += len;
            }
            else i += w;
        }
        return tokens;
    }

    private static readonly string[] Contractions = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"];

    private static int MatchContraction(string text, int i)
    {
        if (text[i] != '\'') return 0;
        foreach (var c in Contractions)
        {
            int len = MatchLiteral(text, i, c);
            if (len > 0) return len;
        }
        return 0;
    }

    // Case-insensitive literal match as the regex module does it (simple case folding): after lower() only
    // U+017F LATIN SMALL LETTER LONG S can still match an ASCII letter of these patterns ('s').
    private static int MatchLiteral(string text, int i, string literal)
    {
        if (i + literal.Length > text.Length) return 0;
        for (int k = 0; k < literal.Length; k++)
        {
            char t = text[i + k], p = literal[k];
            if (t == p || (char.IsAsciiLetter(p) && char.ToLowerInvariant(t) == p && t < 128) || (p == 's' && t == '\u017f'))
                continue;
            return 0;
        }
        return literal.Length;
    }

    private static int Run(string text, int start, Func<int, bool> inClass)
    {
        int i = start;
        while (i < text.Length)
        {
            int cp = PythonUnicode.CodePointAt(text, i, out int w);
            if (!inClass(cp)) break;
            i += w;
        }
        return i - start;
    }
}
