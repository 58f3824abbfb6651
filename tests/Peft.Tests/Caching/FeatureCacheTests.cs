using Peft.Imaging;
using Peft.Clip.Loading;
using Peft.Features;
using Peft.Tests.Host;
using Peft.Tests.Imaging;
using static TorchSharp.torch;
using Peft.Tensors;

namespace Peft.Tests.Caching;

public sealed class FeatureCacheTests() : TempDirectory("peft-cache-")
{
    static readonly string[] Photos = ["photo_chelsea.jpg", "photo_coffee.jpg", "photo_rocket.jpg", "gray.png", "palette.png"];

    LoadedClip Model(long seed = 1) =>
        ClipLoader.Load(RandomClip.Save(Temp($"model{seed}.safetensors"), RandomClip.SmallViT, seed));

    /// <summary>Copies of the fixture images under new names (the cache keys on content, not names).</summary>
    List<string> Images(params string[] names)
    {
        var dir = Directory.CreateDirectory(Temp("images")).FullName;
        return names.Select(n =>
        {
            var target = Path.Combine(dir, n);
            if (!File.Exists(target)) File.Copy(ImageFixtures.PathOf(n), target);
            return target;
        }).ToList();
    }

    [Fact]
    public void SecondRequestIsServedFromDiskWithIdenticalFeatures()
    {
        using var scope = NewDisposeScope();
        using var clip = Model();
        var images = Images(Photos);
        var renderer = new EvalViewRenderer(new ClipPreprocessor(32));
        var cache = new FeatureCache(Temp("cache"), clip.Model);

        var first = cache.Features(images, renderer);
        Assert.Equal((0L, 5L), (cache.Stats.Hits, cache.Stats.Encoded));
        var second = new FeatureCache(Temp("cache"), clip.Model).Features(images, renderer); // a later run
        Assert.True(first.Equals(second));

        // The features are exactly what the encoder gives for the evaluation transform.
        var pre = new ClipPreprocessor(32);
        var direct = clip.Model.EncodeImage(stack(images.Select(p => pre.Preprocess(p)).ToArray()));
        Assert.True(direct.allclose(first, 1e-5, 1e-6));
        Assert.Empty(Directory.GetFiles(Temp("cache"), "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public void OnlyMissingEntriesAreEncodedAndIdentityIsTheContent()
    {
        using var scope = NewDisposeScope();
        using var clip = Model();
        var renderer = new EvalViewRenderer(new ClipPreprocessor(32));
        var cache = new FeatureCache(Temp("cache"), clip.Model);
        var images = Images(Photos);
        cache.Features(images.Take(3).ToList(), renderer);
        var all = cache.Features(images, renderer);
        Assert.Equal((3L, 5L), (cache.Stats.Hits, cache.Stats.Encoded)); // 3 + the 2 new ones

        // A copy of a cached image under another name is a hit.
        var copy = Temp("images/same-cat-other-name.jpg");
        File.Copy(images[0], copy);
        var again = cache.Features([copy], renderer);
        Assert.Equal(5L, cache.Stats.Encoded);
        Assert.True(again[0].Equals(all[0]));
    }

    [Fact]
    public void RenderersAndBackbonesHaveSeparateEntries()
    {
        using var scope = NewDisposeScope();
        using var a = Model(1);
        using var b = Model(2);
        var images = Images(Photos);
        var clipStyle = new EvalViewRenderer(new ClipPreprocessor(32));
        var coopStyle = new EvalViewRenderer(new ClipPreprocessor(32, ClipResizeMode.Squash));
        var cacheA = new FeatureCache(Temp("cache"), a.Model);
        var cacheB = new FeatureCache(Temp("cache"), b.Model);
        Assert.NotEqual(cacheA.BackboneFingerprint, cacheB.BackboneFingerprint);

        var clipFeatures = cacheA.Features(images, clipStyle);
        var coopFeatures = cacheA.Features(images, coopStyle);
        var otherModel = cacheB.Features(images, clipStyle);
        Assert.Equal(10L, cacheA.Stats.Encoded);
        Assert.Equal(5L, cacheB.Stats.Encoded);
        Assert.False(clipFeatures.allclose(coopFeatures));
        Assert.False(clipFeatures.allclose(otherModel));
    }

    [Fact]
    public void FingerprintDependsOnWeightsNotOnTheFileFormat()
    {
        using var a = Model(1);
        var path = Temp("resaved.safetensors");
        SafeTensorsFile.Write(path, a.Model.state_dict().Select(kv => new KeyValuePair<string, Tensor>(kv.Key, kv.Value.to(ScalarType.Float16).to(ScalarType.Float32))));
        using var sameWeightsRounded = ClipLoader.Load(path);
        using var again = ClipLoader.Load(Temp("model1.safetensors"));
        Assert.Equal(BackboneFingerprint.Of(a.Model), BackboneFingerprint.Of(again.Model));
        Assert.NotEqual(BackboneFingerprint.Of(a.Model), BackboneFingerprint.Of(sameWeightsRounded.Model));
    }

    static string[] Segments(string cacheDir) =>
        Directory.GetFiles(cacheDir, "*" + PackedFeatureStore.Extension, SearchOption.AllDirectories).Order().ToArray();

    [Fact]
    public void ASplitIsOneSegmentFileNotOneFilePerImage()
    {
        using var scope = NewDisposeScope();
        using var clip = Model();
        using var cache = new FeatureCache(Temp("cache"), clip.Model);
        cache.Features(Images(Photos), new EvalViewRenderer(new ClipPreprocessor(32)));
        var segment = Assert.Single(Segments(Temp("cache")));
        var (entries, metadata, _) = SafeTensorsFile.ReadHeader(segment);
        Assert.Equal(FeatureSegment.Format, metadata[FeatureSegment.FormatKey]);
        Assert.Equal([5L, 32L], entries.Single(e => e.Name == FeatureSegment.KeysName).Shape);
        Assert.Equal(Path.Combine(cache.RendererDirectory(new EvalViewRenderer(new ClipPreprocessor(32))), "v0"), Path.GetDirectoryName(segment));
    }

    [Fact]
    public void AnUnreadableSegmentIsSetAsideAndItsImagesEncodedAgain()
    {
        using var scope = NewDisposeScope();
        using var clip = Model();
        var images = Images("photo_chelsea.jpg");
        var renderer = new EvalViewRenderer(new ClipPreprocessor(32));
        var good = new FeatureCache(Temp("cache"), clip.Model).Features(images, renderer);
        var segment = Assert.Single(Segments(Temp("cache")));
        File.WriteAllBytes(segment, File.ReadAllBytes(segment)[..40]); // as if a disk error cut it
        var warnings = new List<string>();
        using var cache = new FeatureCache(Temp("cache"), clip.Model) { Warn = warnings.Add };
        var again = cache.Features(images, renderer);
        Assert.Equal(1L, cache.Stats.Encoded);
        Assert.True(again.Equals(good));
        var warning = Assert.Single(warnings);
        Assert.Contains(segment, warning);
        Assert.Contains("unreadable", warning);
        Assert.True(File.Exists(segment + ".damaged"));
        Assert.DoesNotContain(segment, Segments(Temp("cache")));
    }

    /// <summary>Overwrites <paramref name="row"/> of a segment's features (same size) with <paramref name="value"/>.</summary>
    static void DamageRow(string segment, int row, string damage, Random random)
    {
        var (entries, _, dataStart) = SafeTensorsFile.ReadHeader(segment);
        var features = entries.Single(e => e.Name == FeatureSegment.FeaturesName);
        int dim = (int)features.Shape[1];
        long at = dataStart + features.Begin + (long)row * dim * 4;
        var bytes = File.ReadAllBytes(segment);
        long size = bytes.Length;
        if (damage == "one-bit") bytes[at + 5] ^= 0x01; // one flipped bit in the row
        else
        {
            var payload = new float[dim];
            for (int i = 0; i < dim; i++) payload[i] = damage switch { "zeros" => 0f, "nan" => float.NaN, _ => (float)random.NextDouble() };
            System.Runtime.InteropServices.MemoryMarshal.AsBytes(payload.AsSpan()).CopyTo(bytes.AsSpan((int)at));
        }
        File.WriteAllBytes(segment, bytes);
        Assert.Equal(size, new FileInfo(segment).Length);
    }

    [Theory]
    [InlineData("zeros")]
    [InlineData("garbage")]
    [InlineData("nan")]
    [InlineData("one-bit")]
    public void ADamagedRowIsDetectedByItsChecksumAndRecomputed(string damage)
    {
        using var scope = NewDisposeScope();
        using var clip = Model();
        var images = Images(Photos);
        var renderer = new EvalViewRenderer(new ClipPreprocessor(32));
        var good = new FeatureCache(Temp("cache"), clip.Model).Features(images, renderer);
        var segment = Assert.Single(Segments(Temp("cache")));
        var random = new Random(7);
        for (int row = 0; row < 4; row++) DamageRow(segment, row, damage, random);

        var warnings = new List<string>();
        using var cache = new FeatureCache(Temp("cache"), clip.Model) { Warn = warnings.Add };
        var again = cache.Features(images, renderer);
        Assert.True(again.Equals(good));
        Assert.Equal((1L, 4L, 4L), (cache.Stats.Hits, cache.Stats.Encoded, cache.Stats.Rejected));
        // Three entries are named (image and segment), the fourth counted.
        Assert.Equal(4, warnings.Count);
        Assert.Equal(3, warnings.Count(w => w.Contains("does not match its checksum") && w.Contains(segment)));
        Assert.Contains("1 more damaged feature cache entries", warnings[3]);
        // The recomputed rows are a newer segment: the next reader uses them without a warning.
        using var third = new FeatureCache(Temp("cache"), clip.Model) { Warn = warnings.Add };
        Assert.True(third.Features(images, renderer).Equals(good));
        Assert.Equal((5L, 0L, 4), (third.Stats.Hits, third.Stats.Encoded, warnings.Count));
    }

    [Fact]
    public void ACacheInTheOldOneFilePerEntryLayoutIsMovedIntoSegments()
    {
        using var scope = NewDisposeScope();
        using var clip = Model();
        var images = Images(Photos);
        var renderer = new EvalViewRenderer(new ClipPreprocessor(32));
        using var fresh = new FeatureCache(Temp("fresh"), clip.Model);
        var good = fresh.Features(images, renderer);
        // As older versions wrote them: three intact entries, one without a checksum, one damaged.
        var rendererDir = fresh.RendererDirectory(renderer).Replace(Temp("fresh"), Temp("cache"));
        for (int i = 0; i < 5; i++)
        {
            var row = good[i].data<float>().ToArray();
            if (i == 4) row[3] += 1f;
            var hash = fresh.ImageHash(images[i]);
            var path = LegacyFeatureEntries.EntryPath(rendererDir, hash, 0);
            LegacyFeatureEntries.Write(path, good[i].data<float>().ToArray(), renderer.Key, 0, hash, withChecksum: i != 3);
            if (i == 4) // the same size, other floats: the checksum no longer matches
            {
                var (entries, _, dataStart) = SafeTensorsFile.ReadHeader(path);
                var bytes = File.ReadAllBytes(path);
                System.Runtime.InteropServices.MemoryMarshal.AsBytes(row.AsSpan()).CopyTo(bytes.AsSpan((int)(dataStart + entries[0].Begin)));
                File.WriteAllBytes(path, bytes);
            }
        }
        Assert.True(LegacyFeatureEntries.Present(rendererDir));

        var warnings = new List<string>();
        using var cache = new FeatureCache(Temp("cache"), clip.Model) { Warn = warnings.Add };
        Assert.True(cache.Features(images, renderer).allclose(good, 1e-5, 1e-6));
        Assert.Equal((3L, 2L, 2L), (cache.Stats.Hits, cache.Stats.Encoded, cache.Stats.Rejected));
        Assert.Equal(3, warnings.Count);
        Assert.Contains("moved 3 feature cache entries", warnings[0]);
        Assert.Contains("1 feature cache entries", warnings[1]);
        Assert.Contains("no checksum", warnings[1]);
        Assert.Contains("1 damaged feature cache entries", warnings[2]);
        Assert.False(LegacyFeatureEntries.Present(rendererDir));
        Assert.Empty(Directory.GetFiles(Temp("cache"), "*.v0.safetensors", SearchOption.AllDirectories));

        using var later = new FeatureCache(Temp("cache"), clip.Model) { Warn = warnings.Add };
        later.Features(images, renderer);
        Assert.Equal((5L, 0L, 3), (later.Stats.Hits, later.Stats.Encoded, warnings.Count));
    }

    [Fact]
    public void ConcurrentFillersOfOneCacheAgree()
    {
        using var clip1 = Model(1);
        using var clip2 = ClipLoader.Load(Temp("model1.safetensors")); // same weights, another instance
        var images = Images(Photos);
        var renderer = new EvalViewRenderer(new ClipPreprocessor(32));
        Tensor? r1 = null, r2 = null;
        Parallel.Invoke(
            () => r1 = new FeatureCache(Temp("cache"), clip1.Model, batchSize: 2).Features(images, renderer),
            () => r2 = new FeatureCache(Temp("cache"), clip2.Model, batchSize: 3).Features(images, renderer));
        Assert.True(r1!.allclose(r2!, 1e-5, 1e-6));
        var fresh = new FeatureCache(Temp("cache"), clip1.Model);
        var reread = fresh.Features(images, renderer);
        Assert.Equal(0L, fresh.Stats.Encoded);
        Assert.True(reread.allclose(r1!, 1e-5, 1e-6));
        Assert.Empty(Directory.GetFiles(Temp("cache"), "*.tmp", SearchOption.AllDirectories));
        Assert.InRange(Segments(Temp("cache")).Length, 1, 2); // each filler published what it encoded
        r1.Dispose(); r2!.Dispose(); reread.Dispose();
    }

    [Fact]
    public void MissingImageIsNamed()
    {
        using var clip = Model();
        var cache = new FeatureCache(Temp("cache"), clip.Model);
        var e = Assert.Throws<FileNotFoundException>(() => cache.Features([Temp("nope.jpg")], new EvalViewRenderer(new ClipPreprocessor(32))));
        Assert.Contains("nope.jpg", e.Message);
    }
}

public sealed class TrainingViewCacheTests() : TempDirectory("peft-views-")
{
    [Fact]
    public void ViewsAreReproducibleCachedAndExtendedOnlyByWhatIsMissing()
    {
        using var scope = NewDisposeScope();
        using var clip = ClipLoader.Load(RandomClip.Save(Temp("m.safetensors"), RandomClip.SmallViT, 3));
        var images = new[] { "photo_chelsea.jpg", "photo_rocket.jpg" }.Select(ImageFixtures.PathOf).ToList();
        var spec = new Peft.Data.Augmentation.AugmentationSpec(32, scaleMin: 0.5);
        var cache = new FeatureCache(Temp("cache"), clip.Model);

        var four = cache.Views(images, new AugmentedViewRenderer(spec, seed: 1), 4);
        Assert.Equal([4L, 2L, 32L], four.shape);
        Assert.Equal(8L, cache.Stats.Encoded);
        Assert.False(four[0].allclose(four[1])); // different views differ

        var six = cache.Views(images, new AugmentedViewRenderer(spec, seed: 1), 6);
        Assert.Equal(12L, cache.Stats.Encoded); // only views 4 and 5 were new
        Assert.True(six.narrow(0, 0, 4).Equals(four));

        // Another cache (another process) computing from scratch gets the same views: they depend on
        // (seed, image content, view index) only.
        var other = new FeatureCache(Temp("cache2"), clip.Model).Views(images, new AugmentedViewRenderer(spec, seed: 1), 2);
        Assert.True(other.allclose(four.narrow(0, 0, 2), 1e-5, 1e-6));

        var otherSeed = cache.Views(images, new AugmentedViewRenderer(spec, seed: 2), 1);
        Assert.False(otherSeed[0].allclose(four[0]));
    }
}

public sealed class SplitStoreFingerprintTests() : TempDirectory("peft-store-")
{
    static Peft.Data.Datasets.ImageDataset Folder(string name, params string[] files) => new()
    {
        Name = "imagefolder", Root = name, ImageRoot = name, ClassNames = ["a", "b"], Templates = ["a photo of a {}."],
        Train = files.Select((f, i) => new Peft.Data.Datasets.DatasetItem(f, i % 2, i % 2 == 0 ? "a" : "b")).ToList(),
        Val = [], Test = [new("t.png", 0, "a")],
    };

    [Fact]
    public void DifferentFoldersReadByOneReaderGetTheirOwnSplits()
    {
        var store = new Peft.Data.Splits.SplitStore(Temp("cache"));
        var request = new Peft.Data.Splits.FewShotRequest(1, 1, ValShots: 0);
        var first = store.GetOrCreate(Folder("/x", "a1.png", "b1.png", "a2.png", "b2.png"), request, out bool created1);
        var second = store.GetOrCreate(Folder("/y", "c1.png", "d1.png"), request, out bool created2);
        var again = store.GetOrCreate(Folder("/elsewhere", "a1.png", "b1.png", "a2.png", "b2.png"), request, out bool created3);
        Assert.True(created1 && created2 && !created3);
        Assert.NotEqual(first.Sha256, second.Sha256);
        Assert.Equal(first.Sha256, again.Sha256); // same content, another root: the same split
    }
}
