using System.Security.Cryptography;
using System.Text.Json;
using Peft.Imaging;

namespace Peft.Tests.Imaging;

/// <summary>
/// The committed reference images and manifest.json written by tools/reference/make_image_fixtures.py
/// (PIL 9.4, torchvision 0.14). Each entry is one input file and what PIL/torchvision made of it.
/// </summary>
static class ImageFixtures
{
    public static string Directory { get; } = Path.Combine(AppContext.BaseDirectory, "Fixtures", "images");

    static readonly Lazy<JsonElement> Manifest = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(Directory, "manifest.json"))).RootElement);

    public static IEnumerable<JsonElement> Entries => Manifest.Value.GetProperty("images").EnumerateArray();

    public static JsonElement Entry(string file) => Entries.Single(e => e.GetProperty("file").GetString() == file);

    public static string PathOf(string file) => Path.Combine(Directory, file);

    /// <summary>Files of the given kinds ("photo", "synthetic", "invalid"), as xunit member data.</summary>
    public static TheoryData<string> Files(params string[] kinds) => Files(_ => true, kinds);

    /// <summary>Files of the given kinds whose name passes <paramref name="filter"/>.</summary>
    public static TheoryData<string> Files(Func<string, bool> filter, params string[] kinds)
    {
        var data = new TheoryData<string>();
        foreach (var e in Entries)
        {
            var file = e.GetProperty("file").GetString()!;
            if (kinds.Contains(e.GetProperty("kind").GetString()) && filter(file)) data.Add(file);
        }
        return data;
    }

    public static string Sha256(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    public static string Sha256(ReadOnlySpan<float> values) =>
        Sha256(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values)); // little-endian, as the script writes

    /// <summary>
    /// PIL's decoded RGB for an entry: the stored .pil-rgb.png for lossy inputs that have one, else the
    /// input itself when it is lossless and decodes to PIL's hash (checked), else null.
    /// </summary>
    public static RgbImage? PilRgb(JsonElement entry)
    {
        if (entry.TryGetProperty("pil_rgb", out var stored))
            return ImageDecoder.Decode(PathOf(stored.GetString()!)).Rgb;
        var file = entry.GetProperty("file").GetString()!;
        if (file.EndsWith(".jpg") || file == "lossy.webp") return null;
        var rgb = ImageDecoder.Decode(PathOf(file)).Rgb;
        return Sha256(rgb.Pixels) == entry.GetProperty("decoded_sha256").GetString() ? rgb : null;
    }

    public static bool IsLossy(string file) => file.EndsWith(".jpg") || file == "lossy.webp";

    public static PilImageMode ParseMode(string pilMode) => pilMode switch
    {
        "1" => PilImageMode.Bilevel,
        _ => Enum.Parse<PilImageMode>(pilMode),
    };
}
