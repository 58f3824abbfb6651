using Peft.Data.Datasets;
using Peft.Data.Splits;

namespace Peft.Tests.Splits;

/// <summary>A damaged stored split manifest is made again (sampling is deterministic) with a warning naming it, instead of failing every rerun.</summary>
public sealed class SplitRepairTests() : TempDirectory("peft-split-repair-")
{
    static string FixtureSha => SplitFixtures.Manifest.GetProperty("sha256").GetString()!;

    public static TheoryData<string> Damages => ["truncated", "zeros", "edited", "empty"];

    static void Damage(string path, string how)
    {
        var text = File.ReadAllText(path);
        switch (how)
        {
            case "truncated": File.WriteAllText(path, text[..(text.Length / 2)]); break;
            case "zeros": File.WriteAllBytes(path, new byte[text.Length]); break; // what a power loss often leaves
            case "edited": File.WriteAllText(path, text.Replace("train_3_003", "train_3_004")); break; // the hash no longer matches
            case "empty": File.WriteAllText(path, ""); break;
        }
    }

    [Theory]
    [MemberData(nameof(Damages))]
    public void ADamagedManifestIsRebuiltWithAWarningNamingIt(string how)
    {
        var warnings = new List<string>();
        var store = new SplitStore(Dir) { Warn = warnings.Add };
        var reader = new FixedReader(SplitFixtures.FakeDataset());
        var request = new FewShotRequest(8, 2);
        store.GetOrCreate(reader, "/data/fake_pets", request, out _);
        var path = store.PathFor("fake_pets", request);
        Damage(path, how);
        Assert.Throws<DatasetFormatException>(() => SplitManifest.Read(path));

        var again = store.GetOrCreate(reader, "/data/fake_pets", request, out bool created);
        Assert.True(created);
        Assert.Equal(FixtureSha, again.Sha256);
        Assert.Equal(FixtureSha, SplitManifest.Read(path).Sha256); // repaired on disk: the next run reads it
        var warning = Assert.Single(warnings);
        Assert.Contains(path, warning);
        Assert.StartsWith("split manifest damaged, making it again", warning);

        store.GetOrCreate(reader, "/data/fake_pets", request, out created);
        Assert.False(created);
        Assert.Single(warnings);
    }

    [Fact]
    public void TheRunnersStoreRebuildsToo()
    {
        // The runner's overload keys manifests by the dataset's content.
        var warnings = new List<string>();
        var store = new SplitStore(Dir) { Warn = warnings.Add };
        var dataset = SplitFixtures.FakeDataset();
        var request = new FewShotRequest(8, 2);
        store.GetOrCreate(dataset, request, out _);
        var path = Assert.Single(Directory.GetFiles(Path.Combine(Dir, "splits"), "*.json", SearchOption.AllDirectories));
        File.WriteAllBytes(path, new byte[100]);
        Assert.Equal(FixtureSha, store.GetOrCreate(dataset, request, out bool created).Sha256);
        Assert.True(created);
        Assert.Contains(path, Assert.Single(warnings));
    }

    [Fact]
    public void AValidManifestForOtherParametersSaysWhatToDelete()
    {
        var store = new SplitStore(Dir);
        var path = store.PathFor("fake_pets", new FewShotRequest(8, 1));
        SplitManifest.Create(SplitFixtures.FakeDataset(), new FewShotRequest(8, 2)).Write(path);
        var e = Assert.Throws<DatasetFormatException>(() =>
            store.GetOrCreate("fake_pets", new FewShotRequest(8, 1), () => throw new InvalidOperationException("not read"), out _));
        Assert.EndsWith("delete it to make the split again", e.Message);
        Assert.Contains(path, e.Message);
    }
}
