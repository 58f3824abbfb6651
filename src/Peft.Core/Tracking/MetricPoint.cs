namespace Peft.Core.Tracking;

/// <summary>One metric value; MLflow timestamps are Unix epoch milliseconds.</summary>
public sealed record MetricPoint(string Key, double Value, long TimestampMs, long Step = 0);
