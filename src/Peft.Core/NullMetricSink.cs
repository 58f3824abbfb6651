namespace Peft.Core;

/// <summary>A sink that drops everything (tests, quick runs).</summary>
public sealed class NullMetricSink : IMetricSink
{
    public static readonly NullMetricSink Instance = new();
    public void Log(string name, double value, int step = 0) { }
}
