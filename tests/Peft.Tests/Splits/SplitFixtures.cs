using System.Text.Json;
using Peft.Data.Datasets;

namespace Peft.Tests.Splits;

/// <summary>The JSON written by tools/reference/make_split_fixtures.py (CPython 3.11, cross-checked with Dassl's own code).</summary>
static class SplitFixtures
{
    public static string Dir => Path.Combine(AppContext.BaseDirectory, "Fixtures", "splits");

    static readonly Lazy<JsonElement> RandomJson = new(() => Load("random.json"));
    static readonly Lazy<JsonElement> FewShotJson = new(() => Load("fewshot.json"));
    static readonly Lazy<JsonElement> ManifestJson = new(() => Load("manifest.json"));

    public static JsonElement Random => RandomJson.Value;
    public static JsonElement FewShot => FewShotJson.Value;
    public static JsonElement Manifest => ManifestJson.Value;

    static JsonElement Load(string name)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Dir, name)));
        return doc.RootElement.Clone();
    }

    public static List<DatasetItem> Items(JsonElement list) =>
        list.EnumerateArray()
            .Select(t => new DatasetItem(t[0].GetString()!, t[1].GetInt32(), t[2].GetString()!))
            .ToList();

    /// <summary>The fake dataset of fewshot.json as an <see cref="ImageDataset"/>.</summary>
    public static ImageDataset FakeDataset(string name = "fake_pets") => new()
    {
        Name = name,
        Root = "/data/fake_pets",
        ImageRoot = "/data/fake_pets/images",
        ClassNames = FewShot.GetProperty("class_names").EnumerateArray().Select(e => e.GetString()!).ToList(),
        Templates = ["a photo of a {}."],
        Train = Items(FewShot.GetProperty("train")),
        Val = Items(FewShot.GetProperty("val")),
        Test = Items(FewShot.GetProperty("test")),
    };

    public static int[] Ints(JsonElement list) => list.EnumerateArray().Select(e => e.GetInt32()).ToArray();
}

/// <summary>An <see cref="IDatasetReader"/> that returns a fixed dataset (stands in for the registry's readers).</summary>
sealed class FixedReader(ImageDataset dataset) : IDatasetReader
{
    public int Reads;
    public string Name => dataset.Name;
    public string Description => "test dataset";

    public ImageDataset Read(string root)
    {
        Interlocked.Increment(ref Reads);
        return dataset with { Root = root };
    }
}
