using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Peft.Data.Datasets;
using Peft.Data.Splits;

namespace Peft.Tests.Splits;

/// <summary>Manifest canonical form, hash, file writing and reading.</summary>
public class SplitManifestTests() : TempDirectory("peft-splits-manifest-")
{
    static JsonElement F => SplitFixtures.Manifest;

    static SplitManifest FixtureManifest(DateTimeOffset? created = null) =>
        SplitManifest.Create(SplitFixtures.FakeDataset(), new FewShotRequest(8, 2), created);

    [Fact]
    public void CanonicalFormAndHashEqualPythons()
    {
        var m = FixtureManifest();
        Assert.Equal(F.GetProperty("canonical_utf8").GetString(), Encoding.UTF8.GetString(m.CanonicalBytes()));
        Assert.Equal(F.GetProperty("sha256").GetString(), m.Sha256);
        var expected = F.GetProperty("manifest");
        Assert.Equal(SplitFixtures.Items(expected.GetProperty("train")), m.Train);
        Assert.Equal(SplitFixtures.Items(expected.GetProperty("val")), m.Val);
        Assert.Equal(SplitFixtures.Items(expected.GetProperty("test")), m.Test);
        Assert.Equal(6, m.ShortClasses.Count); // includes a val class with no item at all
        Assert.Contains(m.ShortClasses, s => s is { Split: "val", Available: 0 });
    }

    [Fact]
    public void CoOpExportIsByteIdenticalToDasslsWriteJson()
    {
        var m = FixtureManifest();
        Assert.Equal(F.GetProperty("coop_export").GetString(), m.ToCoOpJson());
        var path = Temp("split_zhou_Fake.json");
        Assert.Equal(WriteOutcome.Created, m.ExportCoOp(path));
        Assert.Equal(Encoding.ASCII.GetBytes(F.GetProperty("coop_export").GetString()!), File.ReadAllBytes(path));
    }

    [Fact]
    public void InformationalFieldsDoNotChangeTheHash()
    {
        var a = FixtureManifest(DateTimeOffset.Parse("2020-01-01T00:00:00Z"));
        var b = a.WithInfo("/elsewhere/fake_pets", DateTimeOffset.Parse("2031-06-01T12:00:00Z"));
        var c = a.WithInfo(null, null);
        Assert.Equal(a.Sha256, b.Sha256);
        Assert.Equal(a.Sha256, c.Sha256);
        Assert.NotEqual(a.ToJson(), b.ToJson());
    }

    public static TheoryData<string> Changes() =>
    [
        "dataset", "shots", "seed", "val_shots", "sampling", "seed_null", "class_name", "path", "label", "classname",
        "train_order", "drop_test_item", "move_item_to_val", "short_class", "empty_val",
    ];

    [Theory]
    [MemberData(nameof(Changes))]
    public void AnyChangeChangesTheHash(string change)
    {
        var m = FixtureManifest();
        var train = m.Train.ToList();
        var val = m.Val.ToList();
        var test = m.Test.ToList();
        var names = m.ClassNames.ToList();
        var shorts = m.ShortClasses.ToList();
        string dataset = m.Dataset;
        int shots = m.Shots, valShots = m.ValShots;
        int? seed = m.Seed;
        var sampling = m.Sampling;
        switch (change)
        {
            case "dataset": dataset = "fake_pets2"; break;
            case "shots": shots = 9; break;
            case "seed": seed = 3; break;
            case "val_shots": valShots = 5; break;
            case "sampling": sampling = SamplingMode.Imported; break;
            case "seed_null": sampling = SamplingMode.Imported; seed = null; break;
            case "class_name": names[0] += " "; break;
            case "path": train[0] = train[0] with { ImagePath = train[0].ImagePath + "x" }; break;
            case "label": train[0] = train[0] with { Label = (train[0].Label + 1) % names.Count }; break;
            case "classname": train[0] = train[0] with { ClassName = train[0].ClassName.ToUpperInvariant() + "!" }; break;
            case "train_order": (train[0], train[1]) = (train[1], train[0]); break;
            case "drop_test_item": test.RemoveAt(test.Count - 1); break;
            case "move_item_to_val": val.Add(train[^1]); train.RemoveAt(train.Count - 1); break;
            case "short_class": shorts[0] = shorts[0] with { Available = shorts[0].Available + 1 }; break;
            case "empty_val": val.Clear(); break;
            default: throw new ArgumentException(change);
        }
        var changed = new SplitManifest(dataset, m.Root, m.CreatedUtc, sampling, shots, seed, valShots, names, train, val, test, shorts);
        Assert.NotEqual(m.Sha256, changed.Sha256);
        // ...and the same fields again give the same hash.
        var again = new SplitManifest(dataset, null, null, sampling, shots, seed, valShots, names, train, val, test, shorts);
        Assert.Equal(changed.Sha256, again.Sha256);
    }

    [Fact]
    public void WriteReadRoundTrip()
    {
        var m = FixtureManifest(DateTimeOffset.Parse("2024-02-03T04:05:06Z"));
        var path = Temp("m.json");
        Assert.Equal(WriteOutcome.Created, m.Write(path));
        var r = SplitManifest.Read(path);
        Assert.Equal(m.Sha256, r.Sha256);
        Assert.Equal(m.ToJson(), r.ToJson());
        Assert.Equal(m.Root, r.Root);
        Assert.Equal(m.CreatedUtc, r.CreatedUtc);
        Assert.Equal(m.ClassNames, r.ClassNames);
        Assert.Equal(m.ShortClasses, r.ShortClasses);
        Assert.Equal(m.Train, r.Train);
        Assert.Equal(m.Val, r.Val);
        Assert.Equal(m.Test, r.Test);
        Assert.Empty(Directory.GetFiles(Dir, "*.tmp"));
    }

    [Fact]
    public void FieldOrderAndWhitespaceOfTheFileDoNotMatter()
    {
        var m = FixtureManifest();
        var node = JsonNode.Parse(m.ToJson())!.AsObject();
        var reordered = new JsonObject();
        foreach (var (key, value) in node.Reverse().ToList())
            reordered[key] = value?.DeepClone();
        foreach (var s in reordered["short_classes"]!.AsArray())
        {
            var o = s!.AsObject();
            var copy = o.Reverse().ToList().Select(p => KeyValuePair.Create(p.Key, p.Value?.DeepClone())).ToList();
            o.Clear();
            foreach (var p in copy)
                o.Add(p);
        }
        var path = Temp("reordered.json");
        File.WriteAllText(path, reordered.ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
        Assert.StartsWith("{\"test\"", File.ReadAllText(path));
        Assert.Equal(m.Sha256, SplitManifest.Read(path).Sha256);
    }

    [Fact]
    public void WriteLeavesTheSameSplitAloneAndRefusesADifferentOne()
    {
        var path = Temp("m.json");
        var m = FixtureManifest(DateTimeOffset.Parse("2024-01-01T00:00:00Z"));
        Assert.Equal(WriteOutcome.Created, m.Write(path));
        var before = File.ReadAllText(path);
        // Same split, other informational fields: left as it is.
        Assert.Equal(WriteOutcome.Unchanged, m.WithInfo("/other", DateTimeOffset.UtcNow).Write(path));
        Assert.Equal(before, File.ReadAllText(path));

        var other = SplitManifest.Create(SplitFixtures.FakeDataset(), new FewShotRequest(8, 3));
        var e = Assert.Throws<IOException>(() => other.Write(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("different split", e.Message);
        Assert.Equal(before, File.ReadAllText(path));

        Assert.Equal(WriteOutcome.Replaced, other.Write(path, overwrite: true));
        Assert.Equal(other.Sha256, SplitManifest.Read(path).Sha256);
        Assert.Equal(WriteOutcome.Unchanged, other.Write(path, overwrite: true));

        File.WriteAllText(path, "not json");
        Assert.Throws<IOException>(() => m.Write(path));
        Assert.Equal(WriteOutcome.Replaced, m.Write(path, overwrite: true));
        Assert.Empty(Directory.GetFiles(Dir, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task ConcurrentWritersOfTheSameManifestAgree()
    {
        var manifests = Enumerable.Range(0, 8)
            .Select(i => FixtureManifest(DateTimeOffset.UnixEpoch.AddDays(i))).ToArray(); // different bytes, same split
        for (int round = 0; round < 10; round++) // a check-then-rename writer fails this within a few rounds
        {
            var path = Path.Combine(Dir, $"round{round}", "m.json");
            using var start = new Barrier(manifests.Length);
            var outcomes = await Task.WhenAll(manifests.Select(m => Task.Run(() =>
            {
                start.SignalAndWait();
                return m.Write(path);
            })));
            Assert.Equal(1, outcomes.Count(o => o == WriteOutcome.Created));
            Assert.Equal(manifests.Length - 1, outcomes.Count(o => o == WriteOutcome.Unchanged));
            Assert.Equal(manifests[0].Sha256, SplitManifest.Read(path).Sha256);
            Assert.Equal(["m.json"], Directory.GetFiles(Path.GetDirectoryName(path)!).Select(Path.GetFileName));
        }
    }

    [Fact]
    public async Task ConcurrentWritersOfDifferentManifestsLeaveOneAndFailTheOthers()
    {
        var path = Temp("m.json");
        var a = FixtureManifest();
        var b = SplitManifest.Create(SplitFixtures.FakeDataset(), new FewShotRequest(8, 3));
        using var start = new Barrier(2);
        var tasks = new[] { a, b }.Select(m => Task.Run(() =>
        {
            start.SignalAndWait();
            try
            {
                return m.Write(path).ToString();
            }
            catch (IOException)
            {
                return "refused";
            }
        })).ToArray();
        var results = await Task.WhenAll(tasks);
        Assert.Equal(["Created", "refused"], results.Order());
        var winner = results[0] == "Created" ? a : b;
        Assert.Equal(winner.Sha256, SplitManifest.Read(path).Sha256);
    }

    [Fact]
    public void CreateRefusesATestOnlyDataset()
    {
        var ds = SplitFixtures.FakeDataset() with { Train = [], Val = [] };
        var e = Assert.Throws<DatasetFormatException>(() => SplitManifest.Create(ds, new FewShotRequest(4, 1)));
        Assert.Contains("no training items", e.Message);
    }

    [Fact]
    public void ItemsFromTheDatasetAreValidatedToo()
    {
        var ds = SplitFixtures.FakeDataset();
        var bad = ds with { Test = [.. ds.Test, new DatasetItem("/abs/x.jpg", 0, "abyssinian")] };
        var e = Assert.Throws<DatasetFormatException>(() => SplitManifest.Create(bad, new FewShotRequest(4, 1)));
        Assert.Contains("test[", e.Message);
        Assert.Contains("absolute", e.Message);
    }
}
