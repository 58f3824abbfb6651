using Peft.Tracking.Mlruns;

namespace Peft.Tests.Tracking;

public sealed class MetaYamlTests
{
    [Theory]
    [InlineData("Default", "Default")]
    [InlineData("0", "'0'")]
    [InlineData("", "''")]
    [InlineData("true", "'true'")]
    [InlineData("it's", "'it''s'")]
    [InlineData("a: b", "'a: b'")]
    [InlineData("file:///tmp/mlruns/0", "file:///tmp/mlruns/0")]
    [InlineData("two\nlines", "\"two\\nlines\"")]
    [InlineData("a\u2028b\u2029c\u0085d", "\"a\\u2028b\\u2029c\\x85d\"")] // YAML line breaks: folded inside single quotes
    [InlineData("x\uFFFEy\uFFFF", "\"x\\uFFFEy\\uFFFF\"")] // outside PyYAML's printable set
    [InlineData("bell\u0007 del\u007F c1\u0090", "\"bell\\x07 del\\x7F c1\\x90\"")]
    [InlineData("tab\there \"q\" back\\slash", "\"tab\\there \\\"q\\\" back\\\\slash\"")]
    [InlineData("emoji 😀 é", "'emoji 😀 é'")] // printable outside ASCII: as is
    public void Strings_round_trip_and_are_quoted_only_when_yaml_needs_it(string value, string written)
    {
        var text = MetaYaml.Write(new Dictionary<string, object?> { ["k"] = value });
        Assert.Equal($"k: {written}\n", text);
        Assert.Equal(value, MetaYaml.Read(text)["k"]);
    }

    [Fact]
    public void Keys_are_sorted_and_numbers_null_and_empty_list_keep_their_types()
    {
        var text = MetaYaml.Write(new Dictionary<string, object?> { ["z"] = 5L, ["a"] = null, ["m"] = MetaYaml.EmptyList });
        Assert.Equal("a: null\nm: []\nz: 5\n", text);
        var read = MetaYaml.Read(text);
        Assert.Null(read["a"]);
        Assert.Same(MetaYaml.EmptyList, read["m"]);
        Assert.Equal(5L, read["z"]);
    }

    [Fact]
    public void A_lone_surrogate_is_escaped_and_read_back()
    {
        string value = "lone " + (char)0xD800 + " surrogate";
        var text = MetaYaml.Write(new Dictionary<string, object?> { ["k"] = value });
        Assert.Equal("k: \"lone \\uD800 surrogate\"\n", text);
        Assert.Equal(value, MetaYaml.Read(text)["k"]);
    }

    [Fact]
    public void PyYAMLs_own_escapes_are_read()
    {
        Assert.Equal("a\u0085b\u2028c\u2029d\u00A0e", MetaYaml.Read("name: \"a\\Nb\\Lc\\Pd\\_e\"\n")["name"]);
        Assert.Equal("\U0001F600 \u00e9", MetaYaml.Read("name: \"\\U0001F600 \\xE9\"\n")["name"]);
        Assert.Equal("ab", MetaYaml.Read("name: \"a\\\n  b\"\n")["name"]); // escaped line break: nothing
    }

    [Fact]
    public void Folded_quoted_values_and_malformed_lines()
    {
        Assert.Equal("a long name", MetaYaml.Read("name: 'a long\n  name'\n")["name"]);
        Assert.Contains("not 'key: value'", Assert.Throws<InvalidDataException>(() => MetaYaml.Read("just text\n")).Message);
    }
}
