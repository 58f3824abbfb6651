using System.Text;
using System.Text.Json.Nodes;
using Peft.Core.Tracking;

namespace Peft.Tracking.Rest;

/// <summary>
/// Cuts one logical batch into log-batch requests within MLflow's limits (mlflow/utils/validation.py): at most
/// 1000 metrics, 100 params, 100 tags and 1000 items in all, and a body under 1 MB. Params go first, then tags,
/// then metrics, each in the caller's order (MLflow keeps order only within one kind).
/// </summary>
internal static class LogBatchSplitter
{
    public const int MaxMetrics = 1000, MaxParams = 100, MaxTags = 100, MaxItems = 1000;
    public const int MaxBodyBytes = 1_000_000;
    private const int EnvelopeBytes = 200; // {"run_id":"…","metrics":[],"params":[],"tags":[]}

    public static IEnumerable<JsonObject> Split(string runId, IReadOnlyList<MetricPoint> metrics,
        IEnumerable<KeyValuePair<string, string>> parameters, IEnumerable<KeyValuePair<string, string>> tags, int maxBodyBytes = MaxBodyBytes)
    {
        var items = parameters.Select(p => ("params", KeyValue(p.Key, p.Value)))
            .Concat(tags.Select(t => ("tags", KeyValue(t.Key, t.Value))))
            .Concat(metrics.Select(m => ("metrics", Metric(m))));
        var chunk = NewChunk(runId);
        int metricCount = 0, paramCount = 0, tagCount = 0, bytes = EnvelopeBytes + Encoding.UTF8.GetByteCount(runId);
        foreach (var (kind, item) in items)
        {
            int size = Encoding.UTF8.GetByteCount(item.ToJsonString()) + 1;
            bool full = metricCount + paramCount + tagCount == MaxItems || bytes + size > maxBodyBytes
                        || kind switch { "metrics" => metricCount == MaxMetrics, "params" => paramCount == MaxParams, _ => tagCount == MaxTags };
            if (full && metricCount + paramCount + tagCount > 0)
            {
                yield return chunk;
                chunk = NewChunk(runId);
                metricCount = paramCount = tagCount = 0;
                bytes = EnvelopeBytes + Encoding.UTF8.GetByteCount(runId);
            }
            ((JsonArray)chunk[kind]!).Add(item);
            bytes += size;
            _ = kind switch { "metrics" => metricCount++, "params" => paramCount++, _ => tagCount++ };
        }
        if (metricCount + paramCount + tagCount > 0) yield return chunk;
    }

    private static JsonObject NewChunk(string runId) => new() { ["run_id"] = runId, ["metrics"] = new JsonArray(), ["params"] = new JsonArray(), ["tags"] = new JsonArray() };

    public static JsonObject KeyValue(string key, string value) => new() { ["key"] = key, ["value"] = value };

    /// <summary>A metric as protobuf JSON spells it: NaN and ±Inf as the strings "NaN", "Infinity", "-Infinity".</summary>
    public static JsonObject Metric(MetricPoint m) => new()
    {
        ["key"] = m.Key,
        ["value"] = double.IsNaN(m.Value) ? JsonValue.Create("NaN")
            : double.IsPositiveInfinity(m.Value) ? JsonValue.Create("Infinity")
            : double.IsNegativeInfinity(m.Value) ? JsonValue.Create("-Infinity")
            : JsonValue.Create(m.Value),
        ["timestamp"] = m.TimestampMs,
        ["step"] = m.Step,
    };
}
