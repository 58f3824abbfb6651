using Peft.Core;
using Peft.Data.Augmentation;
using Peft.Features;
using Peft.Data.Datasets;
using Peft.Data.Splits;
using static TorchSharp.torch;

namespace Peft.Host.Methods;

/// <summary>
/// <see cref="ITaskFeatures"/> of one cell, read from the feature cache on first use and kept for every method of
/// the cell: the manifest's training images (evaluation transform, and augmented views seeded by the cell seed, once per
/// training transform) and its validation images. Methods get a <see cref="MethodTaskFeatures"/> view of it (their own
/// transform's views, no test split); the test split is for the host (<see cref="TestFeatures"/>) and, under the
/// as-published protocol only, for <see cref="OracleTaskData"/>.
/// </summary>
public sealed class CachedTaskFeatures : ICellFeatures
{
    readonly FeatureCache _cache;
    readonly ImageDataset _dataset;
    readonly SplitManifest _split;
    readonly IViewRenderer _eval;
    readonly AugmentationSpec _defaultAugmentation;
    readonly CancellationToken _cancel;
    readonly Dictionary<string, (AugmentedViewRenderer Renderer, Tensor? Views)> _views = new(StringComparer.Ordinal);
    Tensor? _train, _val, _test, _fullVal, _fullValLabels;

    /// <param name="augmentation">The transform of <see cref="TrainViews(int)"/> (callers that serve one transform to all).</param>
    /// <param name="cancel">Stops encoding missing entries (Ctrl-C during a long extraction).</param>
    public CachedTaskFeatures(FeatureCache cache, ImageDataset dataset, SplitManifest split, IViewRenderer eval, AugmentationSpec augmentation,
        CancellationToken cancel = default)
    {
        _cancel = cancel;
        _cache = cache;
        _dataset = dataset;
        _split = split;
        _eval = eval;
        _defaultAugmentation = augmentation;
        TrainLabels = Labels(split.Train);
        ValLabels = Labels(split.Val);
        TestLabels = Labels(split.Test);
    }

    static Tensor Labels(IReadOnlyList<DatasetItem> items) => tensor(items.Select(i => (long)i.Label).ToArray());

    List<string> Paths(IEnumerable<DatasetItem> items) => items.Select(_dataset.PathOf).ToList();

    public int Dim => (int)TrainFeatures().shape[1];
    public Tensor TrainLabels { get; }
    public Tensor ValLabels { get; }
    public Tensor TestLabels { get; }

    public Tensor TrainFeatures() => _train ??= _cache.Features(Paths(_split.Train), _eval, cancel: _cancel).DetachFromDisposeScope();
    public Tensor ValFeatures() => _val ??= _cache.Features(Paths(_split.Val), _eval, cancel: _cancel).DetachFromDisposeScope();

    /// <summary>The test features, for the host's evaluation only.</summary>
    public Tensor TestFeatures() => _test ??= _cache.Features(Paths(_split.Test), _eval, cancel: _cancel).DetachFromDisposeScope();

    /// <summary>The dataset's whole validation split (not the few-shot one), for <see cref="OracleTaskData"/> only.</summary>
    public Tensor FullValFeatures() => _fullVal ??= _cache.Features(Paths(_dataset.Val), _eval, cancel: _cancel).DetachFromDisposeScope();
    public Tensor FullValLabels => _fullValLabels ??= Labels(_dataset.Val);

    /// <summary>Views of the transform given at construction.</summary>
    public Tensor TrainViews(int views) => TrainViews(_defaultAugmentation, views);

    /// <summary>
    /// Views 0..<paramref name="views"/>-1 [V, N, D] of the training images under <paramref name="augmentation"/>, read
    /// from the feature cache once per transform (by its key) and kept for every method of the cell that uses it.
    /// </summary>
    public Tensor TrainViews(AugmentationSpec augmentation, int views)
    {
        if (views < 1) throw new ArgumentOutOfRangeException(nameof(views), "at least one view");
        if (!_views.TryGetValue(augmentation.Key, out var entry))
            entry = (new AugmentedViewRenderer(augmentation, _split.Seed ?? 0), null);
        if (entry.Views is null || entry.Views.shape[0] < views)
        {
            entry.Views?.Dispose();
            entry.Views = _cache.Views(Paths(_split.Train), entry.Renderer, views, _cancel).DetachFromDisposeScope();
        }
        _views[augmentation.Key] = entry;
        return entry.Views.narrow(0, 0, views);
    }

    public void Dispose()
    {
        foreach (var t in new[] { _train, _val, _test, _fullVal, _fullValLabels, TrainLabels, ValLabels, TestLabels }) t?.Dispose();
        foreach (var (_, views) in _views.Values) views?.Dispose();
    }
}
