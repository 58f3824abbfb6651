using System.Text.Json;
using Peft.Clip.Text;

namespace Peft.Tests.Text;

/// <summary>The character tables against the reference Python's own answers (fixture unicode.json).</summary>
public class PythonUnicodeTests
{
    static JsonElement U => TokenizerFixtures.Unicode.Value;

    static HashSet<int> Set(string name)
    {
        var set = new HashSet<int>();
        foreach (var r in U.GetProperty(name).EnumerateArray())
            for (int cp = r[0].GetInt32(); cp <= r[1].GetInt32(); cp++) set.Add(cp);
        return set;
    }

    static IEnumerable<int> AllCodePoints() => Enumerable.Range(0, 0x110000).Where(cp => cp is < 0xD800 or > 0xDFFF);

    [Theory]
    [InlineData("letter_icase")]
    [InlineData("number_icase")]
    [InlineData("other_icase")]
    [InlineData("regex_space")]
    [InlineData("isspace")]
    public void ClassesMatchPythonForEveryCodePoint(string name)
    {
        Func<int, bool> predicate = name switch
        {
            "letter_icase" => PythonUnicode.IsLetter,
            "number_icase" => PythonUnicode.IsNumber,
            "other_icase" => PythonUnicode.IsOther,
            "regex_space" => PythonUnicode.IsRegexSpace,
            _ => PythonUnicode.IsSpace,
        };
        var expected = Set(name);
        var wrong = AllCodePoints().Where(cp => predicate(cp) != expected.Contains(cp)).Take(10).ToList();
        Assert.True(wrong.Count == 0, $"{name} differs at " + string.Join(", ", wrong.Select(cp => $"U+{cp:X4}")));
    }

    [Fact]
    public void LowerMatchesPythonForEveryCodePoint()
    {
        var expected = new Dictionary<int, string>();
        foreach (var e in U.GetProperty("lower").EnumerateArray())
            expected[e[0].GetInt32()] = string.Concat(e[1].EnumerateArray().Select(x => char.ConvertFromUtf32(x.GetInt32())));
        Assert.True(expected.Count > 1000);
        foreach (int cp in AllCodePoints())
        {
            string s = char.ConvertFromUtf32(cp);
            Assert.Equal(expected.GetValueOrDefault(cp, s), PythonUnicode.Lower(s));
        }
    }

    [Fact]
    public void LowerAppliesPythonsFinalSigmaRule()
    {
        Assert.Equal("οδυσσευς", PythonUnicode.Lower("ΟΔΥΣΣΕΥΣ"));
        Assert.Equal("σ", PythonUnicode.Lower("Σ"));
        Assert.Equal("ας.", PythonUnicode.Lower("ΑΣ."));
        Assert.Equal("ας'", PythonUnicode.Lower("ΑΣ'"));
        Assert.Equal("ασ'β", PythonUnicode.Lower("ΑΣ'Β"));   // apostrophe is case-ignorable: a cased letter follows
        Assert.Equal("i\u0307stanbul", PythonUnicode.Lower("İstanbul"));
        Assert.Equal("k", PythonUnicode.Lower("\u212a"));
    }

    [Fact]
    public void SigmaPropertyTablesMatchPython()
    {
        var cased = Set("sigma_cased");
        var ignorable = Set("sigma_case_ignorable");
        Assert.Contains('a', cased);
        Assert.Contains('\'', ignorable);
        Assert.Empty(cased.Intersect(ignorable));
        foreach (int cp in new[] { 'a', 'Z', '.', '\'', ' ', '1', 0x345, 0x2B0, 0x300, 0x1F600 })
        {
            string c = char.ConvertFromUtf32(cp);
            // ("xΣ"): final iff x is cased; ("aΣxa"): final iff x is neither cased nor case-ignorable.
            Assert.Equal(cased.Contains(cp) ? "ς" : "σ", PythonUnicode.Lower(c + "Σ")[^1..]);
            Assert.Equal(!cased.Contains(cp) && !ignorable.Contains(cp) ? 'ς' : 'σ', PythonUnicode.Lower("aΣ" + c + "a")[1]);
        }
    }

    [Fact]
    public void StripAndCollapseFollowPython()
    {
        Assert.Equal("a \x1c b", PythonUnicode.Strip("\x1c\u3000 a \x1c b\u2029\x85"));  // isspace includes U+001C..U+001F
        Assert.Equal("a b \x1c c", PythonUnicode.CollapseWhitespace("a\t\u00a0b \x1c c"));  // regex \s does not
        Assert.Equal("", PythonUnicode.Strip(" \t\n "));
    }
}
