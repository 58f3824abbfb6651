using Peft.Data.Datasets;
using Peft.Data.Splits;
using Peft.Host.Methods;

namespace Peft.Host.Experiments;

/// <summary>
/// What the cells of one (dataset, shots, seed) group share: the dataset, its split, and the features the methods train
/// on — all classes, or under <c>classes: base-to-new</c> the base half (<see cref="ClassNames"/> are then the base
/// classes) with the new half's test split in <see cref="New"/> for the host's evaluation.
/// </summary>
public sealed class CellGroup : IDisposable
{
    readonly ICellFeatures _all;

    public CellGroup(ImageDataset dataset, SplitManifest split, ICellFeatures all)
    {
        Dataset = dataset;
        Split = split;
        _all = all;
        Features = all;
        ClassNames = dataset.ClassNames;
    }

    public ImageDataset Dataset { get; }
    public SplitManifest Split { get; }
    /// <summary>The features methods see and the host tests on (the base half under base-to-new).</summary>
    public ICellFeatures Features { get; private init; }
    /// <summary>The classes of <see cref="Features"/>, in label order.</summary>
    public IReadOnlyList<string> ClassNames { get; private init; }
    /// <summary>The new half (base-to-new only): its test split and class names.</summary>
    public ClassSubsetFeatures? New { get; private init; }
    public IReadOnlyList<string>? NewClassNames { get; private init; }

    /// <summary>The group under base-to-new: classes halved from the split's training labels (Dassl's subsample_classes).</summary>
    public static CellGroup BaseToNew(ImageDataset dataset, SplitManifest split, ICellFeatures all)
    {
        var (b, n) = ClassSubsample.Split(split.Train.Select(i => i.Label));
        return new CellGroup(dataset, split, all)
        {
            Features = new ClassSubsetFeatures(all, b), ClassNames = b.ClassNames(dataset.ClassNames),
            New = new ClassSubsetFeatures(all, n), NewClassNames = n.ClassNames(dataset.ClassNames),
        };
    }

    public void Dispose()
    {
        if (!ReferenceEquals(Features, _all)) Features.Dispose();
        New?.Dispose();
        _all.Dispose();
    }
}
