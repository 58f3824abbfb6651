using Peft.Core;

namespace Peft.Testing;

/// <summary>An <see cref="IMetricSink"/> that keeps every point, for assertions on what a method logs.</summary>
public sealed class RecordingMetricSink : IMetricSink
{
    readonly List<(string Name, double Value, int Step)> _points = [];

    /// <summary>Every logged point in order.</summary>
    public IReadOnlyList<(string Name, double Value, int Step)> Points => _points;

    /// <summary>The values of one metric in logging order.</summary>
    public IReadOnlyList<double> Values(string name) => _points.Where(p => p.Name == name).Select(p => p.Value).ToList();

    public void Log(string name, double value, int step = 0)
    {
        lock (_points) _points.Add((name, value, step));
    }
}
