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
    public void Folded_quoted_values_and_malformed_lines()
    {
        Assert.Equal("a long name", MetaYaml.Read("name: 'a long\n  name'\n")["name"]);
        Assert.Contains("not 'key: value'", Assert.Throws<InvalidDataException>(() => MetaYaml.Read("just text\n")).Message);
    }
}
