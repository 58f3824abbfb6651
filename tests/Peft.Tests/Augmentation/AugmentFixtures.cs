using System.Text.Json;

namespace Peft.Tests.Augmentation;

/// <summary>manifest.json and files written by tools/reference/make_augment_fixtures.py (torchvision 0.14, PIL 9.4).</summary>
static class AugmentFixtures
{
    public static string Directory { get; } = Path.Combine(AppContext.BaseDirectory, "Fixtures", "augment");

    static readonly Lazy<JsonElement> Manifest = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(Directory, "manifest.json"))).RootElement);

    public static JsonElement Section(string name) => Manifest.Value.GetProperty(name);

    public static string PathOf(string file) => Path.Combine(Directory, file);

    /// <summary>Indices into a manifest section, as xunit member data (one test case per record).</summary>
    public static TheoryData<int> Indices(string section)
    {
        var data = new TheoryData<int>();
        for (int i = 0; i < Section(section).GetArrayLength(); i++) data.Add(i);
        return data;
    }
}
