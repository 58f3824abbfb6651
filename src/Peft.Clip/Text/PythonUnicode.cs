using System.Globalization;
using System.Text;

namespace Peft.Clip.Text;

/// <summary>
/// The few Python string operations CLIP's text cleaning depends on, reproduced code point for code point:
/// <c>str.strip()</c>, <c>regex.sub(r'\s+', ' ')</c>, <c>str.lower()</c> (with its final-sigma rule) and the
/// <c>[\p{L}]</c>/<c>[\p{N}]</c>/<c>[^\s\p{L}\p{N}]</c> classes of the IGNORECASE pre-tokeniser.
/// </summary>
/// <remarks>
/// The character data comes from the reference Python (<see cref="PythonUnicodeTables"/>, generated), not from
/// .NET's own Unicode tables: those follow a newer Unicode version and differ from Python's (e.g. <c>str.lower()</c>
/// of U+0130 is two code points, and U+0345 falls in none of the pre-tokeniser's classes under IGNORECASE).
/// </remarks>
internal static class PythonUnicode
{
    private static readonly RangeSet Letters = new(PythonUnicodeTables.Letter);
    private static readonly RangeSet Numbers = new(PythonUnicodeTables.Number);
    private static readonly RangeSet Others = new(PythonUnicodeTables.Other);
    private static readonly RangeSet RegexSpaces = new(PythonUnicodeTables.RegexSpace);
    private static readonly RangeSet IsSpaces = new(PythonUnicodeTables.IsSpace);
    private static readonly RangeSet SigmaCased = new(PythonUnicodeTables.SigmaCased);
    private static readonly RangeSet SigmaCaseIgnorable = new(PythonUnicodeTables.SigmaCaseIgnorable);
    private static readonly Dictionary<int, string> LowerMap = ParseLower(PythonUnicodeTables.Lower);

    internal static bool IsLetter(int cp) => Letters.Contains(cp);
    internal static bool IsNumber(int cp) => Numbers.Contains(cp);
    internal static bool IsOther(int cp) => Others.Contains(cp);
    internal static bool IsRegexSpace(int cp) => RegexSpaces.Contains(cp);
    internal static bool IsSpace(int cp) => IsSpaces.Contains(cp);

    /// <summary>Python <c>str.lower()</c> of a single code point taken out of context.</summary>
    internal static string LowerCodePoint(int cp) =>
        LowerMap.TryGetValue(cp, out var s) ? s : char.ConvertFromUtf32(cp);

    /// <summary>Python <c>str.strip()</c> (no argument): trims <c>str.isspace()</c> code points at both ends.</summary>
    internal static string Strip(string s)
    {
        int start = 0, end = s.Length;
        while (start < end && IsSpace(CodePointAt(s, start, out int w))) start += w;
        while (end > start && IsSpace(CodePointBefore(s, end, out int w))) end -= w;
        return start == 0 && end == s.Length ? s : s[start..end];
    }

    /// <summary><c>regex.sub(r'\s+', ' ', s)</c>.</summary>
    internal static string CollapseWhitespace(string s)
    {
        var sb = new StringBuilder(s.Length);
        bool inRun = false;
        for (int i = 0; i < s.Length;)
        {
            int cp = CodePointAt(s, i, out int w);
            if (IsRegexSpace(cp))
            {
                if (!inRun) sb.Append(' ');
                inRun = true;
            }
            else
            {
                sb.Append(s, i, w);
                inRun = false;
            }
            i += w;
        }
        return sb.ToString();
    }

    /// <summary>Python <c>str.lower()</c>, including the Final_Sigma context rule for U+03A3.</summary>
    internal static string Lower(string s)
    {
        var cps = ToCodePoints(s);
        var sb = new StringBuilder(s.Length);
        for (int i = 0; i < cps.Length; i++)
        {
            int cp = cps[i];
            if (cp == 0x3A3) sb.Append(IsFinalSigma(cps, i) ? 'ς' : 'σ');
            else if (LowerMap.TryGetValue(cp, out var lowered)) sb.Append(lowered);
            else sb.Append(char.ConvertFromUtf32(cp));
        }
        return sb.ToString();
    }

    // CPython's handle_capital_sigma: a cased letter before (skipping case-ignorables), none after.
    private static bool IsFinalSigma(int[] cps, int i)
    {
        int j = i - 1;
        while (j >= 0 && SigmaCaseIgnorable.Contains(cps[j])) j--;
        if (j < 0 || !SigmaCased.Contains(cps[j])) return false;
        j = i + 1;
        while (j < cps.Length && SigmaCaseIgnorable.Contains(cps[j])) j++;
        return j == cps.Length || !SigmaCased.Contains(cps[j]);
    }

    /// <summary>The code points of <paramref name="s"/>; a lone surrogate counts as its own code point, as in Python.</summary>
    internal static int[] ToCodePoints(string s)
    {
        var list = new List<int>(s.Length);
        for (int i = 0; i < s.Length;)
        {
            list.Add(CodePointAt(s, i, out int w));
            i += w;
        }
        return list.ToArray();
    }

    internal static int CodePointAt(string s, int i, out int width)
    {
        char c = s[i];
        if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
        {
            width = 2;
            return char.ConvertToUtf32(c, s[i + 1]);
        }
        width = 1;
        return c;
    }

    private static int CodePointBefore(string s, int end, out int width)
    {
        char c = s[end - 1];
        if (char.IsLowSurrogate(c) && end >= 2 && char.IsHighSurrogate(s[end - 2]))
        {
            width = 2;
            return char.ConvertToUtf32(s[end - 2], c);
        }
        width = 1;
        return c;
    }

    private static Dictionary<int, string> ParseLower(string table)
    {
        var map = new Dictionary<int, string>();
        foreach (var entry in table.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            int colon = entry.IndexOf(':');
            int cp = int.Parse(entry.AsSpan(0, colon), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            var sb = new StringBuilder();
            foreach (var part in entry[(colon + 1)..].Split('.'))
                sb.Append(char.ConvertFromUtf32(int.Parse(part, NumberStyles.HexNumber, CultureInfo.InvariantCulture)));
            map[cp] = sb.ToString();
        }
        return map;
    }

    /// <summary>A sorted set of code point ranges parsed from <c>"41-5A 61 ..."</c>; ASCII is answered from a bitmap.</summary>
    private sealed class RangeSet
    {
        private readonly int[] _starts;
        private readonly int[] _ends;
        private readonly bool[] _ascii = new bool[128];

        public RangeSet(string table)
        {
            var parts = table.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            _starts = new int[parts.Length];
            _ends = new int[parts.Length];
            for (int i = 0; i < parts.Length; i++)
            {
                int dash = parts[i].IndexOf('-');
                _starts[i] = int.Parse(dash < 0 ? parts[i] : parts[i][..dash], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                _ends[i] = dash < 0 ? _starts[i] : int.Parse(parts[i][(dash + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            }
            for (int cp = 0; cp < 128; cp++) _ascii[cp] = Search(cp);
        }

        public bool Contains(int cp) => cp < 128 ? cp >= 0 && _ascii[cp] : Search(cp);

        private bool Search(int cp)
        {
            int lo = 0, hi = _starts.Length - 1;
            while (lo <= hi)
            {
                int mid = (lo + hi) >>> 1;
                if (cp < _starts[mid]) hi = mid - 1;
                else if (cp > _ends[mid]) lo = mid + 1;
                else return true;
            }
            return false;
        }
    }
}
