using Peft.Core;
using static TorchSharp.torch;

namespace Peft.Host.Methods;

/// <summary>Accuracy of a classifier on features the method never saw: top-1 and mean per-class accuracy (classes absent from the labels are NaN in <see cref="PerClass"/> and left out of the mean).</summary>
public sealed record ClassifierEvaluation(double Top1, double MeanPerClass, IReadOnlyList<double> PerClass)
{
    public static ClassifierEvaluation Evaluate(IFeatureClassifier classifier, Tensor features, Tensor labels, int numClasses, int batchSize = 1024)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var predictions = new List<Tensor>();
        for (long start = 0; start < features.shape[0]; start += batchSize)
        {
            long n = Math.Min(batchSize, features.shape[0] - start);
            predictions.Add(classifier.Logits(features.narrow(0, start, n)).argmax(1));
        }
        var predicted = predictions.Count == 0 ? zeros(0, dtype: ScalarType.Int64) : cat(predictions, 0);
        var correct = predicted.eq(labels.to(ScalarType.Int64)).to(ScalarType.Float64);
        var perClass = new List<double>();
        for (int c = 0; c < numClasses; c++)
        {
            var mask = labels.eq(c);
            long count = mask.sum().item<long>();
            perClass.Add(count > 0 ? correct[mask].mean().item<double>() : double.NaN);
        }
        double top1 = correct.numel() == 0 ? double.NaN : correct.mean().item<double>();
        var present = perClass.Where(a => !double.IsNaN(a)).ToList();
        return new ClassifierEvaluation(top1, present.Count == 0 ? double.NaN : present.Average(), perClass);
    }
}
