using System.Text.Json;
using System.Text.Json.Serialization;

namespace Peft.Tests.Text;

/// <summary>One case written by tools/reference/make_tokenizer_fixtures.py from the official tokenizer.</summary>
public sealed class TokenizerCase
{
    [JsonPropertyName("category")] public string Category { get; set; } = "";
    [JsonPropertyName("text")] public string Text { get; set; } = "";
    [JsonPropertyName("normalized")] public string Normalized { get; set; } = "";
    [JsonPropertyName("ids")] public int[] Ids { get; set; } = [];
    [JsonPropertyName("row")] public long[]? Row { get; set; }
    [JsonPropertyName("truncated")] public long[]? Truncated { get; set; }
    [JsonPropertyName("decoded")] public string Decoded { get; set; } = "";
    [JsonPropertyName("normalized_no_fix_encoding")] public string NormalizedNoFixEncoding { get; set; } = "";
    [JsonPropertyName("ids_no_fix_encoding")] public int[] IdsNoFixEncoding { get; set; } = [];
    [JsonPropertyName("ftfy")] public string? Ftfy { get; set; }
    [JsonPropertyName("ftfy_no_fix_encoding")] public string? FtfyNoFixEncoding { get; set; }
    [JsonPropertyName("html_unescape")] public string? HtmlUnescape { get; set; }

    /// <summary>The official result depends on ftfy's mojibake repair, which the C# port leaves out.</summary>
    public bool NeedsMojibakeRepair => !Ids.SequenceEqual(IdsNoFixEncoding) || Normalized != NormalizedNoFixEncoding;

    public override string ToString() => $"[{Category}] {JsonSerializer.Serialize(Text)}";
}

public sealed class DecodeCase
{
    [JsonPropertyName("ids")] public int[] Ids { get; set; } = [];
    [JsonPropertyName("decoded")] public string Decoded { get; set; } = "";
}

internal static class TokenizerFixtures
{
    public static string Dir => Path.Combine(AppContext.BaseDirectory, "Fixtures", "tokenizer");

    public static readonly Lazy<TokenizerCase[]> Hand = new(() => Load<TokenizerCase[]>("cases.json"));
    public static readonly Lazy<TokenizerCase[]> Bulk = new(() => Load<TokenizerCase[]>("bulk.json"));
    public static readonly Lazy<DecodeCase[]> Decode = new(() => Load<DecodeCase[]>("decode.json"));
    public static readonly Lazy<JsonElement> Unicode = new(() => Load<JsonElement>("unicode.json"));

    public static IEnumerable<TokenizerCase> All => Hand.Value.Concat(Bulk.Value);

    static T Load<T>(string name) =>
        JsonSerializer.Deserialize<T>(File.ReadAllBytes(Path.Combine(Dir, name)))
        ?? throw new InvalidDataException($"{name} is empty");
}
