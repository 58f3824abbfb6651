using Peft.Core;
using static TorchSharp.torch;

namespace MyMethod;

/// <summary>
/// Each class is the normalised mean of its normalised training features; logits are scaled cosines (a nearest class
/// mean classifier: replace it with your method). The host evaluates the returned classifier on test images.
/// </summary>
public sealed class MyMethodMethod(MyMethodOptions options) : IAdaptationMethod
{
    public IFeatureClassifier Fit(AdaptationContext context)
    {
        using var scope = NewDisposeScope();
        var features = nn.functional.normalize(context.Features.TrainFeatures(), dim: -1);
        var labels = context.Features.TrainLabels;
        var means = stack(Enumerable.Range(0, context.Task.NumClasses)
            .Select(c => features[labels.eq(c)].mean([0])).ToArray());
        var weights = nn.functional.normalize(means, dim: -1).MoveToOuterDisposeScope();
        context.Metrics.Log("classes", context.Task.NumClasses);
        return new Classifier(weights, options.Scale);
    }

    sealed class Classifier(Tensor weights, double scale) : IFeatureClassifier
    {
        public long TrainableParameters => 0;
        public IReadOnlyDictionary<string, Tensor> Weights => new Dictionary<string, Tensor> { ["class_means"] = weights };
        public Tensor Logits(Tensor imageFeatures) =>
            nn.functional.normalize(imageFeatures, dim: -1).matmul(weights.t()) * scale;
        public void Dispose() => weights.Dispose();
    }
}
