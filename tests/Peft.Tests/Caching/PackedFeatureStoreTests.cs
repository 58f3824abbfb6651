using System.Security.Cryptography;
using System.Text;
using Peft.Features;

namespace Peft.Tests.Caching;

/// <summary>The packed store on its own: keys and rows without an encoder.</summary>
public sealed class PackedFeatureStoreTests() : TempDirectory("peft-packed-")
{
    const int Dim = 8;
    static readonly Dictionary<string, string> Meta = new() { ["renderer"] = "test", ["view"] = "0" };

    static ImageKey Key(int i) => ImageKey.FromBytes(SHA256.HashData(Encoding.UTF8.GetBytes($"image {i}")));
    static float[] Row(int i) => Enumerable.Range(0, Dim).Select(k => i * 100f + k).ToArray();
    static (ImageKey, float[])[] Rows(int from, int count) => Enumerable.Range(from, count).Select(i => (Key(i), Row(i))).ToArray();

    PackedFeatureStore Store(List<string>? warnings = null) => new(Temp("store"), Dim, Meta, (warnings ?? []).Add);

    static (bool[] found, float[][] rows) ReadAll(PackedFeatureStore store, int count, List<(string, int)>? damaged = null)
    {
        var rows = Enumerable.Range(0, count).Select(_ => new float[Dim]).ToArray();
        var found = store.Read(Enumerable.Range(0, count).Select(Key).ToList(), i => rows[i], damaged ?? []);
        return (found, rows);
    }

    [Fact]
    public void RowsReadBackExactlyAndUnknownKeysAreMissing()
    {
        using var store = Store();
        store.Append(Rows(0, 10));
        var (found, rows) = ReadAll(store, 12);
        Assert.Equal(Enumerable.Range(0, 12).Select(i => i < 10), found);
        for (int i = 0; i < 10; i++) Assert.Equal(Row(i), rows[i]);
        Assert.Equal(Key(3), ImageKey.FromHex(Key(3).ToString()));
    }

    [Fact]
    public void SmallSegmentsAreMergedAndAReaderOpenedBeforeTheMergeStillReads()
    {
        using var writer = Store();
        using var reader = Store();
        for (int s = 0; s < PackedFeatureStore.MergeAt - 1; s++) writer.Append(Rows(s * 3, 3));
        Assert.Equal(PackedFeatureStore.MergeAt - 1, reader.SegmentCount); // the reader has them open now
        writer.Append(Rows(0, 3).Concat(Rows(100, 3)).ToArray()); // the 16th: a merge, duplicates kept once
        Assert.Equal(1, writer.SegmentCount);
        Assert.Single(Directory.GetFiles(Temp("store"), "*" + PackedFeatureStore.Extension));
        var (found, rows) = ReadAll(reader, (PackedFeatureStore.MergeAt - 1) * 3);
        Assert.All(found, Assert.True);
        Assert.Equal(Row(40), rows[40]);
        var (_, after) = ReadAll(writer, 103);
        Assert.Equal(Row(102), after[102]);
        Assert.Empty(Directory.GetFiles(Temp("store"), "*.tmp"));
    }

    [Fact]
    public void ADamagedRowIsReadFromAnIntactCopyInAnotherSegment()
    {
        using (var first = Store()) first.Append(Rows(0, 4));
        var older = Directory.GetFiles(Temp("store")).Single();
        Thread.Sleep(2);
        using (var second = Store()) second.Append(Rows(2, 2)); // another shard encoded images 2 and 3 as well
        var newer = Directory.GetFiles(Temp("store")).Single(f => f != older);
        // Damage image 2's row in the newer segment (its first row).
        var (entries, _, dataStart) = Peft.Tensors.SafeTensorsFile.ReadHeader(newer);
        var bytes = File.ReadAllBytes(newer);
        bytes[dataStart + entries.Single(e => e.Name == FeatureSegment.FeaturesName).Begin] ^= 0x40;
        File.WriteAllBytes(newer, bytes);

        using var store = Store();
        var damaged = new List<(string, int)>();
        var (found, rows) = ReadAll(store, 4, damaged);
        Assert.All(found, Assert.True);
        Assert.Equal(Row(2), rows[2]);
        Assert.Equal((newer, 2), Assert.Single(damaged));
    }

    [Fact]
    public void ConcurrentWritersAndMergersLoseNothing()
    {
        // Four writers (as four shards) append 40 small segments each to one folder, merging as they go.
        Parallel.For(0, 4, w =>
        {
            using var store = Store();
            for (int s = 0; s < 40; s++) store.Append(Rows(w * 1000 + s * 2, 2));
        });
        using var reader = Store();
        var keys = Enumerable.Range(0, 4).SelectMany(w => Enumerable.Range(w * 1000, 80)).ToList();
        var rows = keys.Select(_ => new float[Dim]).ToArray();
        var found = reader.Read(keys.Select(Key).ToList(), i => rows[i], []);
        Assert.All(found, Assert.True);
        for (int i = 0; i < keys.Count; i++) Assert.Equal(Row(keys[i]), rows[i]);
        Assert.True(reader.SegmentCount < PackedFeatureStore.MergeAt + 4, $"{reader.SegmentCount} segments");
        Assert.Empty(Directory.GetFiles(Temp("store"), "*.tmp"));
    }

    [Fact]
    public void ASegmentOfAnotherFormatIsNamedAndSetAside()
    {
        Directory.CreateDirectory(Temp("store"));
        var alien = Path.Combine(Temp("store"), "0000000000000000001-1-x.safetensors");
        Peft.Tensors.SafeTensorsFile.WriteRaw(alien, [new("feature", TorchSharp.torch.ScalarType.Float32, [2], new byte[8])]);
        var warnings = new List<string>();
        using var store = Store(warnings);
        Assert.Equal(0, store.SegmentCount);
        var warning = Assert.Single(warnings);
        Assert.Contains(alien, warning);
        Assert.Contains("'format'", warning);
        Assert.True(File.Exists(alien + ".damaged"));
    }
}
