using Peft.Data.Augmentation;
using Peft.Data.Splits;
using static TorchSharp.torch;

namespace Peft.Host.Methods;

/// <summary>
/// One half of a cell's classes (<see cref="ClassSubsample"/>: base or new) over the cell's shared features: every
/// split keeps the rows of that half's classes, in order, relabelled 0.. as Dassl's <c>subsample_classes</c>. The
/// features themselves are the cell's (same images, same cached views), so base-to-new cells cost no extra encoding.
/// </summary>
public sealed class ClassSubsetFeatures(ICellFeatures inner, ClassSubsample subset) : ICellFeatures
{
    readonly Dictionary<string, (Tensor Rows, Tensor Labels)> _index = new(StringComparer.Ordinal);
    readonly List<Tensor> _owned = [];

    public ClassSubsample Subset => subset;
    public int Dim => inner.Dim;

    (Tensor Rows, Tensor Labels) Index(string name, Tensor labels)
    {
        if (_index.TryGetValue(name, out var found)) return found;
        var asLong = labels.dtype == ScalarType.Int64 ? labels : labels.to(ScalarType.Int64);
        var original = asLong.data<long>().Select(l => (int)l).ToList();
        if (!ReferenceEquals(asLong, labels)) asLong.Dispose();
        var rows = subset.Select(original);
        // Made lazily, possibly inside a method's dispose scope: detached, they live as long as this object.
        var index = (tensor(rows.Select(r => (long)r).ToArray()).DetachFromDisposeScope(),
            tensor(rows.Select(r => (long)subset.Relabel(original[r])!.Value).ToArray()).DetachFromDisposeScope());
        _owned.Add(index.Item1);
        _owned.Add(index.Item2);
        return _index[name] = index;
    }

    // The last selection per split and source tensor: the inner features return the same tensor object while it is
    // valid (a request for more views replaces it), so a selection is reused exactly as long as its source is.
    readonly Dictionary<string, (Tensor Source, Tensor Selected)> _selected = new(StringComparer.Ordinal);

    Tensor Rows(string name, Tensor labels, Tensor features, long dim = 0)
    {
        var key = $"{name}/{dim}";
        if (_selected.TryGetValue(key, out var last) && ReferenceEquals(last.Source, features)) return last.Selected;
        var selected = features.index_select(dim, Index(name, labels).Rows).DetachFromDisposeScope();
        _owned.Add(selected);
        _selected[key] = (features, selected);
        return selected;
    }

    public Tensor TrainLabels => Index("train", inner.TrainLabels).Labels;
    public Tensor ValLabels => Index("val", inner.ValLabels).Labels;
    public Tensor TestLabels => Index("test", inner.TestLabels).Labels;
    public Tensor FullValLabels => Index("fullval", inner.FullValLabels).Labels;

    public Tensor TrainFeatures() => Rows("train", inner.TrainLabels, inner.TrainFeatures());
    public Tensor ValFeatures() => Rows("val", inner.ValLabels, inner.ValFeatures());
    public Tensor TestFeatures() => Rows("test", inner.TestLabels, inner.TestFeatures());
    public Tensor FullValFeatures() => Rows("fullval", inner.FullValLabels, inner.FullValFeatures());
    public Tensor TrainViews(int views) => Rows("train", inner.TrainLabels, inner.TrainViews(views), dim: 1);
    public Tensor TrainViews(AugmentationSpec augmentation, int views) => Rows("train", inner.TrainLabels, inner.TrainViews(augmentation, views), dim: 1);

    /// <summary>Disposes the selections made here; the inner features belong to the cell group.</summary>
    public void Dispose()
    {
        foreach (var t in _owned) t.Dispose();
        _owned.Clear();
        _index.Clear();
        _selected.Clear();
    }
}
