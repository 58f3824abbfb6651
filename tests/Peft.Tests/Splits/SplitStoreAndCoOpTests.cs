using System.Text.Json;
using Peft.Data.Datasets;
using Peft.Data.Splits;

namespace Peft.Tests.Splits;

/// <summary>SplitStore caching, CoOp import/export and the <c>peft data split</c> job.</summary>
public class SplitStoreAndCoOpTests() : TempDirectory("peft-splits-store-")
{
    static string FixtureSha => SplitFixtures.Manifest.GetProperty("sha256").GetString()!;

    [Fact]
    public void StoreNamesFilesByParameters()
    {
        var store = new SplitStore(Dir);
        Assert.Equal(Path.Combine(Dir, "splits", "fake_pets", "shot_16-seed_1-dassl.json"),
            store.PathFor("fake_pets", new FewShotRequest(16, 1)));
        Assert.Equal(store.PathFor("x", new FewShotRequest(16, 1)), store.PathFor("x", new FewShotRequest(16, 1, ValShots: 4)));
        Assert.EndsWith("shot_2-seed_3-dassl-val_0.json", store.PathFor("x", new FewShotRequest(2, 3, ValShots: 0)));
        Assert.Throws<ArgumentException>(() => store.PathFor("../x", new FewShotRequest(1, 1)));
    }

    [Fact]
    public void StoreCreatesOnceThenReuses()
    {
        var store = new SplitStore(Dir);
        var reader = new FixedReader(SplitFixtures.FakeDataset());
        var first = store.GetOrCreate(reader, "/data/fake_pets", new FewShotRequest(8, 2), out bool created1);
        var second = store.GetOrCreate(reader, "/data/fake_pets", new FewShotRequest(8, 2), out bool created2);
        Assert.True(created1);
        Assert.False(created2);
        Assert.Equal(1, reader.Reads); // the second call did not read the dataset
        Assert.Equal(FixtureSha, first.Sha256);
        Assert.Equal(FixtureSha, second.Sha256);
        var other = store.GetOrCreate(reader, "/data/fake_pets", new FewShotRequest(8, 3), out bool created3);
        Assert.True(created3);
        Assert.NotEqual(first.Sha256, other.Sha256);
    }

    [Fact]
    public void StoreRejectsAFileThatDescribesOtherParameters()
    {
        var store = new SplitStore(Dir);
        var path = store.PathFor("fake_pets", new FewShotRequest(8, 1));
        SplitManifest.Create(SplitFixtures.FakeDataset(), new FewShotRequest(8, 2)).Write(path); // valid, but seed 2
        var e = Assert.Throws<DatasetFormatException>(() =>
            store.GetOrCreate("fake_pets", new FewShotRequest(8, 1), () => throw new InvalidOperationException("not read"), out _));
        Assert.Equal(path, e.File);
        Assert.Contains("seed 2", e.Message);
    }

    [Fact]
    public void StoreRejectsADatasetWhoseSplitChanged()
    {
        // Another process stored a split; meanwhile the dataset changed: the new draw differs and must not replace it.
        var store = new SplitStore(Dir);
        var request = new FewShotRequest(4, 1);
        var path = store.PathFor("fake_pets", request);
        var ds = SplitFixtures.FakeDataset();
        var changed = ds with { Test = ds.Test.Skip(1).ToList() };
        var stored = SplitManifest.Create(ds, request);
        // Simulate the race: the file appears between the existence check and the write.
        bool raced = false;
        var e = Assert.Throws<IOException>(() => store.GetOrCreate("fake_pets", request, () =>
        {
            stored.Write(path);
            raced = true;
            return changed;
        }, out _));
        Assert.True(raced);
        Assert.Contains("different split", e.Message);
        Assert.Equal(stored.Sha256, SplitManifest.Read(path).Sha256);
    }

    [Fact]
    public async Task ConcurrentStoreCreationYieldsOneManifest()
    {
        var store = new SplitStore(Dir);
        var reader = new FixedReader(SplitFixtures.FakeDataset());
        const int n = 6;
        using var start = new Barrier(n);
        var results = await Task.WhenAll(Enumerable.Range(0, n).Select(_ => Task.Run(() =>
        {
            start.SignalAndWait();
            var m = new SplitStore(Dir).GetOrCreate(reader, "/data/fake_pets", new FewShotRequest(8, 2), out bool created);
            return (m.Sha256, created);
        })));
        Assert.All(results, r => Assert.Equal(FixtureSha, r.Sha256));
        Assert.Equal(1, results.Count(r => r.created));
        var folder = Path.GetDirectoryName(store.PathFor("fake_pets", new FewShotRequest(8, 2)))!;
        Assert.Equal(["shot_8-seed_2-dassl.json"], Directory.GetFiles(folder).Select(Path.GetFileName));
    }

    [Fact]
    public void ImportingTheFullSplitSamplesLikeDassl()
    {
        var ds = SplitFixtures.FakeDataset();
        var full = new SplitManifest(ds.Name, null, null, SamplingMode.Imported, 1, null, 0, ds.ClassNames, ds.Train, ds.Val,
            ds.Test, []);
        var path = Temp("split_zhou_Fake.json");
        full.ExportCoOp(path);
        var imported = SplitManifest.ImportCoOp(path, "fake_pets", new CoOpImportOptions(8, 2));
        Assert.Equal(FixtureSha, imported.Sha256); // the same split Python drew
        Assert.Equal(SamplingMode.Dassl, imported.Sampling);
        Assert.Equal(Path.GetDirectoryName(path), imported.Root);
        Assert.Throws<ArgumentException>(() => SplitManifest.ImportCoOp(path, "fake_pets", new CoOpImportOptions(8)));
    }

    [Fact]
    public void ExportThenImportAsFewShotRoundTrips()
    {
        var m = SplitManifest.Create(SplitFixtures.FakeDataset(), new FewShotRequest(4, 3));
        var path = Temp("fewshot.json");
        Assert.Equal(WriteOutcome.Created, m.ExportCoOp(path));
        Assert.Equal(WriteOutcome.Unchanged, m.ExportCoOp(path));
        var back = SplitManifest.ImportCoOp(path, "fake_pets", new CoOpImportOptions(4, 3, AlreadyFewShot: true));
        Assert.Equal(SamplingMode.Imported, back.Sampling);
        Assert.Equal(m.Train, back.Train);
        Assert.Equal(m.Val, back.Val);
        Assert.Equal(m.Test, back.Test);
        Assert.Equal(m.ClassNames, back.ClassNames);
        Assert.Equal(m.ShortClasses, back.ShortClasses);
        Assert.Equal(m.ToCoOpJson(), back.ToCoOpJson());
        Assert.NotEqual(m.Sha256, back.Sha256); // the sampling field says "imported"

        // Exporting a different split over it is refused unless asked.
        var other = SplitManifest.Create(SplitFixtures.FakeDataset(), new FewShotRequest(4, 1));
        Assert.Throws<IOException>(() => other.ExportCoOp(path));
        Assert.Equal(WriteOutcome.Replaced, other.ExportCoOp(path, overwrite: true));

        // A 4-shot file is not a 2-shot split.
        var e = Assert.Throws<DatasetFormatException>(() =>
            SplitManifest.ImportCoOp(path, "fake_pets", new CoOpImportOptions(2, AlreadyFewShot: true)));
        Assert.Contains("more than 2", e.Message);
    }

    [Fact]
    public void ImportTurnsUnderscoresIntoSpacesInClassNamesOnly()
    {
        var path = Temp("split.json");
        File.WriteAllText(path, """
            {"train": [["a/1.jpg", 1, "great_dane"], ["a/2.jpg", 0, "pug"]], "val": [], "test": [["t/1.jpg", 1, "great_dane"]]}
            """);
        var m = SplitManifest.ImportCoOp(path, "dogs", new CoOpImportOptions(1, 1, AlreadyFewShot: true));
        Assert.Equal(["pug", "great dane"], m.ClassNames);
        Assert.Equal("great_dane", m.Train[0].ClassName);
        Assert.Equal(1, m.Seed);
        // val is empty: every class is short there (0 of 1 requested).
        Assert.Equal(2, m.ShortClasses.Count(s => s is { Split: "val", Available: 0 }));
    }

    [Theory]
    [InlineData("""{"train": [["a.jpg", 0, "x"]], "val": [], "test": [["b.jpg", 0, "y"]]}""", "label 0 is 'y' here but 'x'")]
    [InlineData("""{"train": [["a.jpg", 1, "x"]], "val": [], "test": []}""", "label 0 never appears")]
    [InlineData("""{"train": [["a.jpg", 0, "x"]], "test": []}""", "'val' list is missing")]
    [InlineData("""{"train": [], "val": [], "test": []}""", "no entries")]
    [InlineData("""{"train": [["a.jpg", -1, "x"]], "val": [], "test": []}""", "train[0] 'a.jpg': label -1")]
    [InlineData("""{"train": [["/a.jpg", 0, "x"]], "val": [], "test": []}""", "absolute")]
    [InlineData("""{"train": [["a.jpg", 0, "x"], ["a.jpg", 0, "x"]], "val": [], "test": []}""", "listed twice")]
    [InlineData("""{"train": [["a.jpg", "0", "x"]], "val": [], "test": []}""", "expected an integer")]
    [InlineData("""[["a.jpg", 0, "x"]]""", "JSON object")]
    [InlineData("""{"train": [""", "not valid JSON")]
    public void ImportErrorsNameTheFileAndEntry(string json, string fragment)
    {
        var path = Temp("bad.json");
        File.WriteAllText(path, json);
        var e = Assert.Throws<DatasetFormatException>(() =>
            SplitManifest.ImportCoOp(path, "x", new CoOpImportOptions(1, 1, AlreadyFewShot: true)));
        Assert.Equal(path, e.File);
        Assert.Contains(fragment, e.Message);
    }

    [Fact]
    public void SplitJobWritesAManifestAndReports()
    {
        var reader = new FixedReader(SplitFixtures.FakeDataset());
        var outPath = Temp("out/m.json");
        var (m, outcome) = SplitJob.Run(reader, "/data/fake_pets", new FewShotRequest(8, 2), outPath, SplitFileFormat.Manifest);
        Assert.Equal(WriteOutcome.Created, outcome);
        Assert.Equal(FixtureSha, SplitManifest.Read(outPath).Sha256);
        Assert.Equal("/data/fake_pets", m.Root);
        var lines = SplitJob.Summary(m, maxShortLines: 2).ToList();
        Assert.Equal($"sha256: {FixtureSha}", lines[0]);
        Assert.Contains($"train: {m.Train.Count}, val: {m.Val.Count}, test: {m.Test.Count}", lines);
        Assert.Contains(lines, l => l.Contains("2 in train, 4 in val"));
        Assert.Contains(lines, l => l.Contains("class 6 ") && l.Contains("1 item(s), 8 requested"));
        Assert.Contains("  ... and 4 more (listed in the manifest's short_classes)", lines);

        var coopPath = Temp("out/split.json");
        var (_, coopOutcome) = SplitJob.Run(reader, "/data/fake_pets", new FewShotRequest(8, 2), coopPath, SplitFileFormat.CoOp);
        Assert.Equal(WriteOutcome.Created, coopOutcome);
        Assert.Equal(SplitFixtures.Manifest.GetProperty("coop_export").GetString(), File.ReadAllText(coopPath));
        using var doc = JsonDocument.Parse(File.ReadAllText(coopPath));
        Assert.Equal(["train", "val", "test"], doc.RootElement.EnumerateObject().Select(p => p.Name));
    }
}
