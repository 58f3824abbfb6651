using Peft.Core;
using Peft.Features;
using Peft.Data.Datasets;
using Peft.Host.Methods;
using static TorchSharp.torch;

namespace Peft.Host.Experiments;

/// <summary>
/// A distribution-shift target of a source dataset: its test split, with each of its classes mapped to the source
/// class of the same name. A classifier fitted on the source is evaluated on it by restricting its logits to the mapped
/// source classes (as CoOp evaluates ImageNet-A and -R, which cover 200 of ImageNet's 1000 classes) and predicting the
/// best of those; for a target with the source's own classes that is the plain argmax. The test features come from the
/// shared feature cache, once per run.
/// </summary>
public sealed class ShiftTarget : IDisposable
{
    readonly ImageDataset _dataset;
    Tensor? _features;

    public string Name { get; }
    /// <summary>Source label of each target class, in target label order.</summary>
    public IReadOnlyList<long> SourceLabels { get; }
    public Tensor Labels { get; }
    public int NumClasses => SourceLabels.Count;

    ShiftTarget(string name, ImageDataset dataset, IReadOnlyList<long> sourceLabels)
    {
        Name = name;
        _dataset = dataset;
        SourceLabels = sourceLabels;
        Labels = tensor(dataset.Test.Select(i => (long)i.Label).ToArray());
    }

    /// <summary>Class names compare without case, underscores and surrounding spaces ("Golden_retriever" = "golden retriever").</summary>
    public static string Key(string className) => className.Replace('_', ' ').Trim().ToLowerInvariant();

    /// <summary>
    /// Maps <paramref name="target"/>'s classes onto <paramref name="source"/>'s: by class id when both datasets have them
    /// (ImageNet's wnids, as the official code maps its variants), else by name; every target class must exist in the source.
    /// </summary>
    public static ShiftTarget Create(string name, ImageDataset target, ImageDataset source, string sourceName)
    {
        if (target.ClassIds is { } targetIds && source.ClassIds is { } sourceIds)
        {
            var byId = new Dictionary<string, long>(StringComparer.Ordinal);
            for (int i = 0; i < sourceIds.Count; i++) byId.TryAdd(sourceIds[i], i);
            var unknown = targetIds.Where(id => !byId.ContainsKey(id)).ToList();
            if (unknown.Count > 0)
                throw new InvalidDataException($"shift target {name} ({target.Root}): {unknown.Count} of its {targetIds.Count} class ids are not classes of {sourceName}: " +
                                               string.Join(", ", unknown.Take(10)) + (unknown.Count > 10 ? ", …" : ""));
            if (target.Test.Count == 0) throw new InvalidDataException($"shift target {name} ({target.Root}): its test split is empty");
            return new ShiftTarget(name, target, targetIds.Select(id => byId[id]).ToList());
        }
        return Create(name, target, source.ClassNames, sourceName);
    }

    /// <summary>Maps <paramref name="target"/>'s classes onto <paramref name="sourceClasses"/> by name; every target class must exist in the source.</summary>
    public static ShiftTarget Create(string name, ImageDataset target, IReadOnlyList<string> sourceClasses, string sourceName)
    {
        var bySource = new Dictionary<string, long>(StringComparer.Ordinal);
        for (int i = 0; i < sourceClasses.Count; i++)
            if (!bySource.TryAdd(Key(sourceClasses[i]), i))
                throw new InvalidDataException($"shift target {name}: source dataset {sourceName} has two classes named '{sourceClasses[i]}', so target classes cannot be mapped to it by name");
        var missing = target.ClassNames.Where(c => !bySource.ContainsKey(Key(c))).ToList();
        if (missing.Count > 0)
            throw new InvalidDataException($"shift target {name} ({target.Root}): {missing.Count} of its {target.ClassNames.Count} classes are not classes of {sourceName}: " +
                                           string.Join(", ", missing.Take(10).Select(c => $"'{c}'")) + (missing.Count > 10 ? ", …" : ""));
        if (target.Test.Count == 0) throw new InvalidDataException($"shift target {name} ({target.Root}): its test split is empty");
        return new ShiftTarget(name, target, target.ClassNames.Select(c => bySource[Key(c)]).ToList());
    }

    /// <summary>Image paths of the target's test split, in label order of <see cref="Labels"/> (for encoder-tier cells, which
    /// encode them through their own adapted towers).</summary>
    public IReadOnlyList<string> TestPaths => _dataset.Test.Select(_dataset.PathOf).ToList();

    /// <summary>The target's test features (evaluation transform), read from or added to the feature cache on first use.</summary>
    public Tensor Features(FeatureCache cache, IViewRenderer eval, CancellationToken cancel) =>
        _features ??= cache.Features(TestPaths, eval, cancel: cancel).DetachFromDisposeScope();

    /// <summary>Top-1 and mean per-class accuracy of <paramref name="classifier"/> (over the source classes) on the target's test split.</summary>
    public ClassifierEvaluation Evaluate(IFeatureClassifier classifier, FeatureCache cache, IViewRenderer eval, CancellationToken cancel) =>
        Evaluate(classifier, Features(cache, eval, cancel));

    /// <summary>The same on given test features (in the target's test order).</summary>
    public ClassifierEvaluation Evaluate(IFeatureClassifier classifier, Tensor testFeatures)
    {
        using var columns = tensor(SourceLabels.ToArray());
        using var restricted = new Restricted(classifier, columns);
        return ClassifierEvaluation.Evaluate(restricted, testFeatures, Labels, NumClasses);
    }

    public void Dispose()
    {
        _features?.Dispose();
        Labels.Dispose();
    }

    /// <summary>The source classifier's logits of the mapped classes only, in target label order.</summary>
    sealed class Restricted(IFeatureClassifier inner, Tensor columns) : IFeatureClassifier
    {
        public Tensor Logits(Tensor imageFeatures) => inner.Logits(imageFeatures).index_select(1, columns);
        public long TrainableParameters => inner.TrainableParameters;
        public IReadOnlyDictionary<string, Tensor> Weights => inner.Weights;
        public void Dispose() { } // the inner classifier belongs to the cell
    }
}
