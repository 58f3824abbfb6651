using Peft.Core;
using Peft.Data.Augmentation;
using Peft.Data.Caching;
using Peft.Data.Datasets;
using Peft.Data.Splits;
using static TorchSharp.torch;

namespace Peft.Host.Methods;

/// <summary>
/// <see cref="ITaskFeatures"/> of one cell, read from the feature cache on first use and kept for every method of
/// the cell: the manifest's training images (evaluation transform and augmented views seeded by the cell seed) and
/// its validation images. The test split is exposed only to the host (<see cref="TestFeatures"/>), not through the
/// interface methods see.
/// </summary>
public sealed class CachedTaskFeatures : ICellFeatures
{
    readonly FeatureCache _cache;
    readonly ImageDataset _dataset;
    readonly SplitManifest _split;
    readonly IViewRenderer _eval;
    readonly AugmentedViewRenderer _views;
    readonly CancellationToken _cancel;
    Tensor? _train, _val, _trainViews, _test;

    /// <param name="cancel">Stops encoding missing entries (Ctrl-C during a long extraction).</param>
    public CachedTaskFeatures(FeatureCache cache, ImageDataset dataset, SplitManifest split, IViewRenderer eval, AugmentationSpec augmentation,
        CancellationToken cancel = default)
    {
        _cancel = cancel;
        _cache = cache;
        _dataset = dataset;
        _split = split;
        _eval = eval;
        _views = new AugmentedViewRenderer(augmentation, split.Seed ?? 0);
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

    public Tensor TrainViews(int views)
    {
        if (views < 1) throw new ArgumentOutOfRangeException(nameof(views), "at least one view");
        if (_trainViews is null || _trainViews.shape[0] < views)
        {
            _trainViews?.Dispose();
            _trainViews = _cache.Views(Paths(_split.Train), _views, views, _cancel).DetachFromDisposeScope();
        }
        return _trainViews.narrow(0, 0, views);
    }

    public void Dispose()
    {
        foreach (var t in new[] { _train, _val, _trainViews, _test, TrainLabels, ValLabels, TestLabels }) t?.Dispose();
    }
}
