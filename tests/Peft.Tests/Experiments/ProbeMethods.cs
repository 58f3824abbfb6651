using System.Collections.Concurrent;
using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Peft.Core;
using static TorchSharp.torch;

namespace Peft.Tests.Experiments;

/// <summary>Options of the probe methods: <see cref="ReadTest"/> makes the method read the oracle's test features.</summary>
public sealed record ProbeOptions : IMethodOptions
{
    public bool ReadTest { get; init; }
    public IEnumerable<string> Validate() => [];
    public bool UsesOracle => ReadTest;
}

/// <summary>
/// Methods that record what the host hands them: <c>probe</c> (declares Dassl's transform) and <c>probe-tip</c>
/// (Tip-Adapter's). Each keeps, per cell, whether it had oracle data, the public members of its features object and
/// the mean of its training views; the classifier is zero-shot-like (nearest class mean of the training features).
/// </summary>
public sealed class ProbeMethods : IMethodPlugin
{
    public sealed record Seen(bool HadOracle, IReadOnlyList<string> FeatureMembers, double ViewsMean, long[] ViewsShape);

    public static ConcurrentDictionary<string, Seen> Observed { get; } = new();

    public void Register(IServiceCollection services)
    {
        services.AddAdaptationMethod<Probe, ProbeOptions>("probe", "records its inputs (Dassl views)", o => new Probe("probe", o), TrainingAugmentation.Dassl);
        services.AddAdaptationMethod<Probe, ProbeOptions>("probe-tip", "records its inputs (Tip views)", o => new Probe("probe-tip", o), TrainingAugmentation.TipAdapter);
    }

    sealed class Probe(string name, ProbeOptions options) : IAdaptationMethod
    {
        public IFeatureClassifier Fit(AdaptationContext context)
        {
            var views = context.Features.TrainViews(2);
            var members = context.Features.GetType().GetMembers(BindingFlags.Public | BindingFlags.Instance).Select(m => m.Name).Distinct().ToList();
            if (options.ReadTest) _ = context.Oracle!.TestFeatures().shape;
            Observed[$"{context.Task.Dataset}/{context.Task.Shots}/{name}"] =
                new Seen(context.Oracle is not null, members, views.mean().item<float>(), views.shape);
            var labels = context.Features.TrainLabels;
            var f = context.Features.TrainFeatures();
            var means = stack(Enumerable.Range(0, context.Task.NumClasses).Select(c =>
                labels.eq(c).any().item<bool>() ? f[labels.eq(c)].mean([0]) : zeros(f.shape[1])).ToArray());
            return new Nearest(means);
        }
    }

    sealed class Nearest(Tensor means) : IFeatureClassifier
    {
        public long TrainableParameters => 0;
        public IReadOnlyDictionary<string, Tensor> Weights => new Dictionary<string, Tensor>();
        public Tensor Logits(Tensor features) => -cdist(features, means);
        public void Dispose() => means.Dispose();
    }
}
