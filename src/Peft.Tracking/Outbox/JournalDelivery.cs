using System.Globalization;
using System.Text.Json.Nodes;
using Peft.Core.Tracking;
using Peft.Tracking.Rest;

namespace Peft.Tracking.Outbox;

/// <summary>
/// Sends a journal's undelivered entries to a tracker, in order, recording progress after each confirmed entry.
/// The one window a crash or a lost reply can leave is an entry applied by the server but not recorded as
/// delivered; it is sent again, which is harmless: params with the same value are accepted, tags overwrite,
/// repeated metric points are identical (MLflow's SQL store drops exact duplicates), run ends repeat, artifacts
/// are rewritten, and a run is looked up by its <c>peft.client_run_id</c> tag before it is created again.
/// </summary>
internal static class JournalDelivery
{
    /// <param name="firstAttempts">Runs that were never tried before (no lookup needed); null means look every run up.</param>
    public static int Deliver(OutboxJournal journal, IExperimentTracker tracker, ISet<int>? firstAttempts = null)
    {
        var entries = journal.Entries();
        int sent = 0;
        for (int i = journal.Delivered; i < entries.Count; i++)
        {
            Apply(journal, entries[i], tracker, firstAttempts?.Remove(i) == true);
            journal.SaveProgress(i + 1);
            sent++;
        }
        return sent;
    }

    private static void Apply(OutboxJournal journal, JsonObject entry, IExperimentTracker tracker, bool firstAttempt)
    {
        var op = (string?)entry["op"];
        switch (op)
        {
            case "experiment":
                journal.Ids[(string)entry["local"]!] = tracker.GetOrCreateExperiment((string)entry["name"]!);
                break;
            case "run":
            {
                var local = (string)entry["local"]!;
                var experimentId = Resolve(journal, (string)entry["experiment"]!);
                var tags = StringMap(entry["tags"]);
                if (tags.TryGetValue("mlflow.parentRunId", out var parent)) tags["mlflow.parentRunId"] = Resolve(journal, parent);
                var earlier = firstAttempt ? null : tracker.FindRuns(experimentId, RestTracker.ClientRunIdTag, local).FirstOrDefault();
                journal.Ids[local] = earlier?.RunId
                                     ?? tracker.CreateRun(experimentId, (string?)entry["name"] ?? "", entry["start"]!.GetValue<long>(), tags);
                break;
            }
            case "batch":
                var metrics = (entry["metrics"] as JsonArray ?? []).Select(m => new MetricPoint((string)m![0]!,
                    double.Parse((string)m[1]!, CultureInfo.InvariantCulture), m[2]!.GetValue<long>(), m[3]!.GetValue<long>())).ToList();
                tracker.LogBatch(Resolve(journal, (string)entry["run"]!), metrics, StringMap(entry["params"]), StringMap(entry["tags"]));
                break;
            case "artifact":
                var bytes = File.ReadAllBytes(Path.Combine(journal.ArtifactsDirectory, (string)entry["file"]!));
                tracker.LogArtifact(Resolve(journal, (string)entry["run"]!), (string)entry["path"]!, bytes);
                break;
            case "end":
                tracker.EndRun(Resolve(journal, (string)entry["run"]!), (RunStatus)entry["status"]!.GetValue<int>(), entry["end"]!.GetValue<long>());
                break;
            default:
                throw new InvalidDataException($"{journal.JournalPath}: unknown entry '{op}'");
        }
    }

    public static string Resolve(OutboxJournal journal, string id) => journal.Ids.GetValueOrDefault(id, id);

    private static Dictionary<string, string> StringMap(JsonNode? node)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in node as JsonObject ?? []) map[key] = (string)value!;
        return map;
    }

    public static JsonObject Map(IReadOnlyDictionary<string, string> values)
    {
        var o = new JsonObject();
        foreach (var (k, v) in values) o[k] = v;
        return o;
    }

    public static JsonArray Metrics(IReadOnlyList<MetricPoint> metrics) => new(metrics.Select(m => (JsonNode)new JsonArray(
        m.Key, m.Value.ToString("R", CultureInfo.InvariantCulture), m.TimestampMs, m.Step)).ToArray());
}
