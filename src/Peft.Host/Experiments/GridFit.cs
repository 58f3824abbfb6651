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

    /// <param name="context">Builds a point's context from its generator and metric sink.</param>
    /// <param name="ablationTest">The ablation view only: evaluates each point's classifier on test after its validation
    /// score is recorded. Selection reads validation only, so the chosen point is the same with or without it.</param>
    public static GridFit Run(MethodSpec method, ulong seed, Func<Generator, IMetricSink, AdaptationContext> context,
        ITaskFeatures features, int numClasses, Action<int>? stepReported, CancellationToken cancel,
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
                var instance = method.Descriptor.Create(new ConfigurationBuilder()
                    .AddInMemoryCollection(point.Section).Build());
                var clock = Stopwatch.StartNew();
                IFeatureClassifier classifier;
                try
                {
                    classifier = instance.Fit(context(new Generator(seed), sink));
                }
                finally
                {
                    (instance as IDisposable)?.Dispose();
                }
                double fit = clock.Elapsed.TotalSeconds;
                fitSeconds += fit;
                clock.Restart();
                var val = ClassifierEvaluation.Evaluate(classifier, features.ValFeatures(), features.ValLabels, numClasses);
                evalSeconds += clock.Elapsed.TotalSeconds;
                points.Add((point, val, fit, ablationTest?.Invoke(classifier)));
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

    public void Dispose() => Classifier.Dispose();
}
