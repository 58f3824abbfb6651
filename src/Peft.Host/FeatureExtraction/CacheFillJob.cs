using Peft.Imaging;
using Peft.Clip.Loading;
using Peft.Data.Augmentation;
using Peft.Features;
using Peft.Data.Datasets;
using Peft.Data.Splits;

namespace Peft.Host.FeatureExtraction;

/// <summary>
/// Fills the feature cache for one (dataset, shots, seed) split: test and validation features (evaluation
/// transform), training features (evaluation transform, for linear probes) and N augmented training views — what
/// the methods of an experiment will ask for. Several processes may fill the same cache at once.
/// </summary>
public sealed class CacheFillJob(CacheFillOptions options, Func<string, IDatasetReader> resolve)
{
    /// <summary>Called with (stage, done, total) while entries are encoded.</summary>
    public Action<string, int, int>? Progress { get; init; }

    public sealed record Result(SplitManifest Split, bool SplitCreated, string Fingerprint, long Encoded, long Cached, TimeSpan Elapsed);

    public Result Run(CancellationToken cancel = default)
    {
        var started = DateTime.UtcNow;
        if (options.Views < 0) throw new ArgumentException($"--views must be 0 or more (got {options.Views})");
        var spec = options.Augmentation switch
        {
            "tip" => (Func<int, AugmentationSpec>)(size => AugmentationSpec.TipAdapter(size)),
            "dassl" => size => AugmentationSpec.Dassl(size),
            "flip" => size => AugmentationSpec.CenterFlip(size),
            _ => throw new ArgumentException($"--augmentation '{options.Augmentation}' is not one of: tip, dassl, flip"),
        };
        var reader = resolve(options.Dataset);
        var dataset = reader.Read(options.Root);
        var store = new SplitStore(Path.Combine(options.CacheDir, "splits"));
        var split = store.GetOrCreate(dataset, new FewShotRequest(options.Shots, options.Seed), out bool created);

        using var loaded = ClipLoader.Load(options.ModelPath, new ClipLoadOptions { ComputeType = options.ComputeType });
        int size = loaded.Model.ImageResolution;
        string stage = "";
        using var cache = new FeatureCache(Path.Combine(options.CacheDir, "features"), loaded.Model, options.BatchSize)
        {
            Progress = (done, total) => Progress?.Invoke(stage, done, total),
        };
        var eval = new EvalViewRenderer(new ClipPreprocessor(size, options.ResizeMode));
        List<string> Paths(IEnumerable<DatasetItem> items) => items.Select(dataset.PathOf).ToList();

        stage = "test"; cache.Features(Paths(split.Test), eval, cancel: cancel).Dispose();
        stage = "val"; cache.Features(Paths(split.Val), eval, cancel: cancel).Dispose();
        stage = "train"; cache.Features(Paths(split.Train), eval, cancel: cancel).Dispose();
        if (options.Views > 0)
        {
            stage = "train views";
            cache.Views(Paths(split.Train), new AugmentedViewRenderer(spec(size), options.Seed), options.Views, cancel).Dispose();
        }
        return new Result(split, created, cache.BackboneFingerprint, cache.Stats.Encoded, cache.Stats.Hits, DateTime.UtcNow - started);
    }
}
