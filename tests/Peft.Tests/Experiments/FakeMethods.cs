using Microsoft.Extensions.DependencyInjection;
using Peft.Core;
using static TorchSharp.torch;

namespace Peft.Tests.Experiments;

/// <summary>Options of <see cref="FakeMethods"/>' methods: the grid tests search over <see cref="CorrectClasses"/>.</summary>
public sealed record FakeOptions : IMethodOptions
{
    /// <summary>Classes the classifier gets right (labels below this); the others are shifted by one. Validation accuracy grows with it.</summary>
    public int CorrectClasses { get; init; } = 1;
    public double Unused { get; init; }
    public int[] Widths { get; init; } = [1];

    public IEnumerable<string> Validate()
    {
        if (CorrectClasses < 0) yield return $"correctClasses must be ≥ 0, got {CorrectClasses}";
    }
}

/// <summary>
/// Test methods: <c>fake</c> (nearest neighbour over training + validation features, right on the first
/// <see cref="FakeOptions.CorrectClasses"/> classes, logs a 3-epoch curve), <c>fails</c> (throws), <c>cancels</c>
/// (calls <see cref="OnFit"/>, then honours the cancellation token).
/// </summary>
public sealed class FakeMethods : IMethodPlugin
{
    public static Action? OnFit { get; set; }

    public void Register(IServiceCollection services)
    {
        services.AddAdaptationMethod<Fake, FakeOptions>("fake", "nearest neighbour, right on some classes", o => new Fake(o));
        services.AddAdaptationMethod<Fails, FakeOptions>("fails", "always throws", _ => new Fails());
        services.AddAdaptationMethod<Cancels, FakeOptions>("cancels", "cancels the run", _ => new Cancels());
    }

    sealed class Fake(FakeOptions options) : IAdaptationMethod
    {
        public IFeatureClassifier Fit(AdaptationContext context)
        {
            for (int epoch = 1; epoch <= 3; epoch++) context.Metrics.Log("loss", 1.0 / epoch, epoch);
            var keys = cat([context.Features.TrainFeatures(), context.Features.ValFeatures()], 0);
            var labels = cat([context.Features.TrainLabels, context.Features.ValLabels], 0);
            // A random draw, so the test of reruns sees the generator.
            var noise = rand([1], generator: context.Generator);
            return new Classifier(keys, labels, context.Task.NumClasses, options.CorrectClasses, noise);
        }
    }

    sealed class Classifier(Tensor keys, Tensor labels, int classes, int correct, Tensor noise) : IFeatureClassifier
    {
        public long TrainableParameters => 1;
        public IReadOnlyDictionary<string, Tensor> Weights => new Dictionary<string, Tensor> { ["noise"] = noise };

        public Tensor Logits(Tensor features)
        {
            var nearest = labels.index_select(0, cdist(features, keys).argmin(1));
            var predicted = where(nearest.lt(correct), nearest, (nearest + 1).remainder(classes));
            return nn.functional.one_hot(predicted, classes).to(ScalarType.Float32);
        }

        public void Dispose() { }
    }

    sealed class Fails : IAdaptationMethod
    {
        public IFeatureClassifier Fit(AdaptationContext context) => throw new InvalidOperationException("the fake method failed on purpose");
    }

    sealed class Cancels : IAdaptationMethod
    {
        public IFeatureClassifier Fit(AdaptationContext context)
        {
            OnFit?.Invoke();
            context.Cancellation.ThrowIfCancellationRequested();
            throw new InvalidOperationException("cancellation was expected");
        }
    }
}
