using Peft.Core;
using Peft.Features;
using Peft.Data.Datasets;
using Peft.Host.Methods;
using static TorchSharp.torch;
using Peft.Results;

namespace Peft.Host.Experiments;

/// <summary>
/// A cross-dataset transfer target (CoCoOp's table 2): another dataset's test split with its own classes. A classifier
/// fitted on the source is asked for a classifier over the target's class names and templates
/// (<see cref="IOpenVocabularyClassifier.ForClasses"/>) and the host evaluates that; a classifier without the interface
/// is not applicable. Test features come from the shared feature cache, once per run.
/// </summary>
public sealed class TransferTarget(string name, ImageDataset dataset) : IDisposable
{
    Tensor? _features;

    public string Name => name;
    public Tensor Labels { get; } = tensor(dataset.Test.Select(i => (long)i.Label).ToArray());

    /// <summary>The target's classes as a task (its class names and templates; shots and seed of the source cell).</summary>
    public FewShotTask Task(int shots, int seed) => new(name, dataset.ClassNames, dataset.Templates, shots, seed);

    /// <summary>Image paths of the target's test split (for encoder-tier cells, which encode them through their adapted towers).</summary>
    public IReadOnlyList<string> TestPaths => dataset.Test.Select(dataset.PathOf).ToList();

    public Tensor Features(FeatureCache cache, IViewRenderer eval, CancellationToken cancel) =>
        _features ??= cache.Features(TestPaths, eval, cancel: cancel).DetachFromDisposeScope();

    public static TransferTarget Create(string name, ImageDataset dataset) =>
        dataset.Test.Count == 0
            ? throw new InvalidDataException($"transfer target {name} ({dataset.Root}): its test split is empty")
            : new TransferTarget(name, dataset);

    public void Dispose()
    {
        _features?.Dispose();
        Labels.Dispose();
    }
}

/// <summary>How the host evaluates a fitted classifier on classes it was not trained on (base-to-new, transfer).</summary>
public static class UnseenClassEvaluation
{
    /// <summary>
    /// The classifier for <paramref name="classes"/> (<see cref="IOpenVocabularyClassifier"/>) evaluated on the given test
    /// features and labels, in percent; <see cref="UnseenClassAccuracy.NotApplicable"/> when the method has no such classifier.
    /// </summary>
    public static UnseenClassAccuracy Evaluate(IFeatureClassifier fitted, FewShotTask classes, Tensor testFeatures, Tensor testLabels)
    {
        if (fitted is not IOpenVocabularyClassifier open || open.ForClasses(classes) is not { } classifier) return UnseenClassAccuracy.NotApplicable;
        using (classifier)
        {
            var e = ClassifierEvaluation.Evaluate(classifier, testFeatures, testLabels, classes.NumClasses);
            return new UnseenClassAccuracy(e.Top1 * 100, e.MeanPerClass * 100);
        }
    }
}
