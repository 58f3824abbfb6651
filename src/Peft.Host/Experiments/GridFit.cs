using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Peft.Core;
using Peft.Core.Tracking;
using Peft.Host.Methods;
using static TorchSharp.torch;

namespace Peft.Host.Experiments;

/// <summary>
/// Fits every hyperparameter point of a method on one cell and keeps the one with the best validation top-1 (ties:
/// the first in grid order); the others are disposed. Every point starts from the same cell generator seed, so
/// points differ only by their options. Test features are never touched here.
/// </summary>
public sealed class GridFit : IDisposable
{
    public required IFeatureClassifier Classifier { get; init; }
    public required GridPoint Selected { get; init; }
    public required int SelectedIndex { get; init; }
    public required ClassifierEvaluation Validation { get; init; }
    /// <summary>What the selected point's method logged through its metric sink.</summary>
    public required IReadOnlyList<MetricPoint> MethodMetrics { get; init; }
    /// <summary>Every point with its validation accuracy; <c>Test</c> only for the ablation view (null otherwise).</summary>
    public required IReadOnlyList<(GridPoint Point, ClassifierEvaluation Validation, double FitSeconds, ClassifierEvaluation? Test)> Points { get; init; }
    public required double FitSeconds { get; init; }
    public required double EvalSeconds { get; init; }

    /// <param name="fit">Fits one point's method from its generator and metric sink (<see cref="FeatureLevel"/>, or the
    /// encoder tier's fit).</param>
    /// <param name="valFeatures">The validation features a point's classifier is scored on: the shared cached ones, or,
    /// for an encoder-level method, those of its adapted towers.</param>
    /// <param name="ablationTest">The ablation view only: evaluates each point's classifier on test after its validation
    /// score is recorded. Selection reads validation only, so the chosen point is the same with or without it.</param>
    public static GridFit Run(MethodSpec method, ulong seed, Func<GridPoint, Generator, IMetricSink, IFeatureClassifier> fit,
        Func<IFeatureClassifier, Tensor> valFeatures, Tensor valLabels, int numClasses, Action<int>? stepReported, CancellationToken cancel,
        Func<IFeatureClassifier, ClassifierEvaluation>? ablationTest = null)
    {
        IFeatureClassifier? best = null;
        int bestIndex = -1;
        ClassifierEvaluation? bestVal = null;
        IReadOnlyList<MetricPoint> bestMetrics = [];
        var points = new List<(GridPoint, ClassifierEvaluation, double, ClassifierEvaluation?)>();
        double fitSeconds = 0, evalSeconds = 0;
        try
        {
            for (int i = 0; i < method.Points.Count; i++)
            {
                cancel.ThrowIfCancellationRequested();
                var point = method.Points[i];
                var sink = new RecordingMetricSink { StepReported = stepReported };
                var clock = Stopwatch.StartNew();
                IFeatureClassifier classifier = fit(point, new Generator(seed), sink);
                double fitTime = clock.Elapsed.TotalSeconds;
                fitSeconds += fitTime;
                clock.Restart();
                ClassifierEvaluation val;
                try { val = ClassifierEvaluation.Evaluate(classifier, valFeatures(classifier), valLabels, numClasses); }
                catch { classifier.Dispose(); throw; }
                evalSeconds += clock.Elapsed.TotalSeconds;
                points.Add((point, val, fitTime, ablationTest?.Invoke(classifier)));
                if (best is null || val.Top1 > bestVal!.Top1)
                {
                    best?.Dispose();
                    (best, bestIndex, bestVal, bestMetrics) = (classifier, i, val, sink.Points);
                }
                else classifier.Dispose();
            }
        }
        catch
        {
            best?.Dispose();
            throw;
        }
        return new GridFit
        {
            Classifier = best!, Selected = method.Points[bestIndex], SelectedIndex = bestIndex, Validation = bestVal!,
            MethodMetrics = bestMetrics, Points = points, FitSeconds = fitSeconds, EvalSeconds = evalSeconds,
        };
    }

    /// <summary>A feature-level method's fit: builds the point's method from its options section and fits it on <paramref name="context"/>.</summary>
    public static Func<GridPoint, Generator, IMetricSink, IFeatureClassifier> FeatureLevel(MethodSpec method,
        Func<Generator, IMetricSink, AdaptationContext> context) => (point, generator, sink) =>
    {
        var instance = method.Descriptor.Create(Configuration(point));
        try { return instance.Fit(context(generator, sink)); }
        finally { (instance as IDisposable)?.Dispose(); }
    };

    /// <summary>The point's options as the configuration its method is built from.</summary>
    public static IConfiguration Configuration(GridPoint point) => new ConfigurationBuilder().AddInMemoryCollection(point.Section).Build();

    public void Dispose() => Classifier.Dispose();
}
