namespace Peft.Data.Splits;

/// <summary>
/// One half of a dataset's classes under CoCoOp's base-to-new protocol, as Dassl/CoOp's
/// <c>subsample_classes(train, val, test, subsample="base"|"new")</c> (KaiyangZhou/CoOp datasets/oxford_pets.py) makes
/// it: the distinct labels of the (few-shot) training split, sorted; the first ceil(n/2) are base, the rest new; items of
/// the other half (and of labels absent from training) are dropped and the kept ones relabelled 0.. in that order. The
/// few-shot draw happens before, over all classes, so a base-to-new split is the ordinary split of the same seed, subsampled.
/// </summary>
public sealed class ClassSubsample
{
    public const string BaseName = "base";
    public const string NewName = "new";

    readonly Dictionary<int, int> _relabel;

    /// <summary><see cref="BaseName"/> or <see cref="NewName"/>.</summary>
    public string Name { get; }
    /// <summary>The original labels of the selected classes, in their new label order.</summary>
    public IReadOnlyList<int> Labels { get; }

    ClassSubsample(string name, IReadOnlyList<int> labels)
    {
        Name = name;
        Labels = labels;
        _relabel = labels.Select((label, i) => (label, i)).ToDictionary(p => p.label, p => p.i);
    }

    /// <summary>The base and new halves for a training split with these labels (Dassl reads the labels of its first argument, train).</summary>
    public static (ClassSubsample Base, ClassSubsample New) Split(IEnumerable<int> trainLabels)
    {
        var labels = trainLabels.Distinct().Order().ToList();
        if (labels.Count < 2)
            throw new ArgumentException($"base-to-new needs at least 2 classes in the training split; it has {labels.Count}");
        int m = (labels.Count + 1) / 2; // math.ceil(n / 2)
        return (new ClassSubsample(BaseName, labels.Take(m).ToList()), new ClassSubsample(NewName, labels.Skip(m).ToList()));
    }

    public int Count => Labels.Count;

    /// <summary>The new label of an original label, or null when the class is not in this half.</summary>
    public int? Relabel(int label) => _relabel.TryGetValue(label, out var l) ? l : null;

    /// <summary>Positions of the items of this half in <paramref name="labels"/> (list order kept).</summary>
    public IReadOnlyList<int> Select(IReadOnlyList<int> labels) =>
        Enumerable.Range(0, labels.Count).Where(i => _relabel.ContainsKey(labels[i])).ToList();

    /// <summary>The items of this half, relabelled, in list order (what <c>subsample_classes</c> returns for one list).</summary>
    public IReadOnlyList<Datasets.DatasetItem> Apply(IReadOnlyList<Datasets.DatasetItem> items) =>
        items.Where(i => _relabel.ContainsKey(i.Label)).Select(i => i with { Label = _relabel[i.Label] }).ToList();

    /// <summary>The class names of this half, in new label order.</summary>
    public IReadOnlyList<string> ClassNames(IReadOnlyList<string> all) => Labels.Select(l => all[l]).ToList();
}
