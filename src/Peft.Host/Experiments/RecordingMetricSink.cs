using Peft.Core;
using Peft.Core.Tracking;
using Peft.Results;

namespace Peft.Host.Experiments;

/// <summary>
/// Keeps what a method logs during Fit, to be logged with its run as <c>train/&lt;name&gt;</c> (names that already
/// start with <c>train/</c> keep theirs). <see cref="StepReported"/> sees each step, for an epoch progress bar.
/// </summary>
public sealed class RecordingMetricSink : IMetricSink
{
    readonly List<MetricPoint> _points = [];
    readonly object _gate = new();

    public Action<int>? StepReported { get; init; }

    public IReadOnlyList<MetricPoint> Points { get { lock (_gate) return _points.ToList(); } }

    public void Log(string name, double value, int step = 0)
    {
        var key = name.StartsWith(TrackingNames.MethodMetricPrefix, StringComparison.Ordinal) ? name : TrackingNames.MethodMetricPrefix + name;
        lock (_gate) _points.Add(new MetricPoint(key, value, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), step));
        if (step > 0) StepReported?.Invoke(step);
    }
}
