using Peft.Results;

namespace Peft.Reporting;

/// <summary>Reading a metric from a cell, and its name in reports.</summary>
public static class AccuracyMetricExtensions
{
    public static double Of(this AccuracyMetric metric, CellResult cell) => metric switch
    {
        AccuracyMetric.Top1 => cell.TestTop1,
        AccuracyMetric.MeanPerClass => cell.TestMeanPerClass,
        _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, null),
    };

    public static string Label(this AccuracyMetric metric) => metric switch
    {
        AccuracyMetric.Top1 => "test top-1 accuracy (%)",
        AccuracyMetric.MeanPerClass => "test mean-per-class accuracy (%)",
        _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, null),
    };
}
