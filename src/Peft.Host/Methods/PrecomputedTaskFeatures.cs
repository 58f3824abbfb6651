using Peft.Clip.Loading;
using Peft.Data.Augmentation;
using Peft.Data.Datasets;
using Peft.Data.Features;
using Peft.Data.Splits;
using static TorchSharp.torch;
using Peft.Tensors;

namespace Peft.Host.Methods;

/// <summary>
/// The features of one cell of a <c>features</c> dataset (<see cref="FeaturesDatasetReader"/>): the rows of the file
/// that the split's items name, in the split's order. Augmented views come from the file's <c>train_views</c>.
/// </summary>
public sealed class PrecomputedTaskFeatures : ICellFeatures
{
    readonly Tensor _train, _val, _test;
    readonly Tensor? _views;
    readonly Tensor _fullVal, _fullValLabels;
    readonly string? _viewsTransform;
    readonly string _path;

    /// <param name="dim">The backbone's embedding size: the file's features must have it.</param>
    public PrecomputedTaskFeatures(string path, SplitManifest split, int dim)
    {
        _path = path;
        using var scope = NewDisposeScope();
        using var file = PrecomputedFeatures.Load(path);
        if (file.Dim != dim)
            throw new DatasetFormatException(path, $"features have dimension {file.Dim} but the experiment's backbone embeds to {dim}");
        Tensor Rows(Tensor all, IReadOnlyList<DatasetItem> items) =>
            all.index_select(0, tensor(items.Select(i => (long)FeaturesDatasetReader.RowOf(i)).ToArray())).to(ScalarType.Float32);
        _train = Rows(file.TrainFeatures, split.Train).DetachFromDisposeScope();
        _val = Rows(file.ValFeatures, split.Val).DetachFromDisposeScope();
        _test = Rows(file.TestFeatures, split.Test).DetachFromDisposeScope();
        // The file's whole validation split is the dataset's (what the as-published protocol's oracle reads).
        _fullVal = file.ValFeatures.to(ScalarType.Float32, copy: true).DetachFromDisposeScope();
        _fullValLabels = file.ValLabels.to(ScalarType.Int64, copy: true).DetachFromDisposeScope();
        _viewsTransform = FeaturesDatasetReader.ViewsTransform(path);
        using var views = SafeTensorsFile.Read(path, name => name == FeaturesDatasetReader.ViewsKey);
        if (views.TryGet(FeaturesDatasetReader.ViewsKey, out var v))
        {
            if (v.shape.Length != 3 || v.shape[1] != file.TrainFeatures.shape[0] || v.shape[2] != dim)
                throw new DatasetFormatException(path, $"key '{FeaturesDatasetReader.ViewsKey}': shape [{string.Join(", ", v.shape)}] is not [V, {file.TrainFeatures.shape[0]}, {dim}]");
            _views = v.index_select(1, tensor(split.Train.Select(i => (long)FeaturesDatasetReader.RowOf(i)).ToArray())).to(ScalarType.Float32).DetachFromDisposeScope();
        }
        TrainLabels = Labels(split.Train);
        ValLabels = Labels(split.Val);
        TestLabels = Labels(split.Test);
    }

    static Tensor Labels(IReadOnlyList<DatasetItem> items) => tensor(items.Select(i => (long)i.Label).ToArray()).DetachFromDisposeScope();

    /// <summary>True when the file has <c>train_views</c>.</summary>
    public bool HasViews => _views is not null;
    public int Dim => (int)_train.shape[1];
    public Tensor TrainLabels { get; }
    public Tensor ValLabels { get; }
    public Tensor TestLabels { get; }
    public Tensor TrainFeatures() => _train;
    public Tensor ValFeatures() => _val;
    public Tensor TestFeatures() => _test;

    public Tensor FullValFeatures() => _fullVal;
    public Tensor FullValLabels => _fullValLabels;

    /// <summary>The file's views, for a method whose transform is the one that rendered them (when the file records it).</summary>
    public Tensor TrainViews(AugmentationSpec augmentation, int views)
    {
        if (_viewsTransform is not null && _views is not null && _viewsTransform != augmentation.Key)
            throw new DatasetFormatException(_path, $"'{FeaturesDatasetReader.ViewsKey}' were rendered with transform '{_viewsTransform}' but the method trains with '{augmentation.Key}' (export the cell for that method)");
        return TrainViews(views);
    }

    public Tensor TrainViews(int views)
    {
        if (views < 1) throw new ArgumentOutOfRangeException(nameof(views), "at least one view");
        if (_views is null)
            throw new DatasetFormatException(_path, $"has no '{FeaturesDatasetReader.ViewsKey}' but the method asks for {views} augmented training view(s)");
        if (_views.shape[0] < views)
            throw new DatasetFormatException(_path, $"'{FeaturesDatasetReader.ViewsKey}' holds {_views.shape[0]} view(s) but the method asks for {views}");
        return _views.narrow(0, 0, views);
    }

    public void Dispose()
    {
        foreach (var t in new[] { _train, _val, _test, _views, _fullVal, _fullValLabels, TrainLabels, ValLabels, TestLabels }) t?.Dispose();
    }
}
