using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Peft.Core.Tracking;
using Peft.IO;
using Peft.Tracking.Mlruns;

namespace Peft.Tracking.Rest;

/// <summary>
/// An MLflow tracking server over its REST API (<c>/api/2.0/mlflow/…</c>; reference/mlflow.md §1): GET parameters
/// in the query string, POST bodies as JSON, batches split to the server's limits, artifacts through the server's
/// artifact proxy. Keys are checked here first so a bad key fails with its name, not as a half-sent batch.
/// </summary>
public sealed class RestTracker : IExperimentTracker
{
    private const string Api = "api/2.0/mlflow/";
    private const string ArtifactsApi = "api/2.0/mlflow-artifacts/artifacts/";
    private readonly MlflowHttp _http;
    private readonly Dictionary<string, string> _artifactUris = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public RestTracker(string uri, RestTrackerOptions? options = null)
    {
        if (!System.Uri.TryCreate(uri, UriKind.Absolute, out var parsed) || parsed.Scheme is not ("http" or "https"))
            throw new ArgumentException($"tracking URI '{uri}' is not an http:// or https:// address");
        Uri = uri.TrimEnd('/');
        // A trailing slash makes relative routes append to any path prefix (mlflow server --static-prefix).
        _http = new MlflowHttp(new Uri(Uri + "/"), options ?? RestTrackerOptions.FromEnvironment());
    }

    public string Uri { get; }

    public string GetOrCreateExperiment(string name)
    {
        TrackingKeys.ValidateExperimentName(name);
        if (TryGetExperimentByName(name) is { } existing) return existing;
        var created = Post("experiments/create", new JsonObject { ["name"] = name });
        if (created.IsSuccess) return Text(created.Json()["experiment_id"], "experiments/create", "experiment_id");
        if (created.ErrorCode != "RESOURCE_ALREADY_EXISTS") throw Refused("experiments/create", created);
        // Someone created it between our two calls, or a deleted experiment holds the name.
        return TryGetExperimentByName(name)
               ?? throw new TrackingException($"MLflow experiments/create: experiment '{name}' already exists, but get-by-name does not find it", false);
    }

    private string? TryGetExperimentByName(string name)
    {
        var reply = Get("experiments/get-by-name", ("experiment_name", name));
        if (reply.Status == 404 && reply.ErrorCode == "RESOURCE_DOES_NOT_EXIST") return null;
        if (!reply.IsSuccess) throw Refused("experiments/get-by-name", reply);
        var experiment = reply.Json()["experiment"] as JsonObject
                         ?? throw new TrackingException("MLflow experiments/get-by-name: the reply has no 'experiment'", false);
        var id = Text(experiment["experiment_id"], "experiments/get-by-name", "experiment_id");
        if ((string?)experiment["lifecycle_stage"] == "deleted")
            throw new TrackingException(
                $"experiment '{name}' (id {id}) is deleted on {Uri}; restore it (mlflow experiments restore) or purge it (mlflow gc) before using the name again", false);
        return id;
    }

    public string CreateRun(string experimentId, string runName, long startTimeMs, IReadOnlyDictionary<string, string> tags)
    {
        ArgumentNullException.ThrowIfNull(tags);
        var tagArray = new JsonArray();
        foreach (var (key, value) in tags)
        {
            TrackingKeys.Validate(key, "tag");
            tagArray.Add(LogBatchSplitter.KeyValue(key, TrackingKeys.TruncateValue(key, value, TrackingKeys.MaxTagValueLength, "tag")));
        }
        // start_time always: an unset proto2 int64 reads as 0, and the run would start in 1970.
        var body = new JsonObject { ["experiment_id"] = experimentId, ["start_time"] = startTimeMs, ["tags"] = tagArray };
        if (!string.IsNullOrEmpty(runName)) body["run_name"] = runName;
        // MLflow's client sends the mlflow.user tag as the run's user_id too (the UI's User column reads either).
        if (tags.TryGetValue("mlflow.user", out var user) && !string.IsNullOrEmpty(user)) body["user_id"] = user;
        // A retried create whose first reply was lost would make a second run; with a client-side run id we look
        // for the first one before each retry (the outbox always sets it).
        Func<MlflowResponse?>? beforeRetry = tags.TryGetValue(ClientRunIdTag, out var clientRunId) && !string.IsNullOrEmpty(clientRunId)
            ? () => FindEarlierRun(experimentId, clientRunId)
            : null;
        var reply = Checked("runs/create", Post("runs/create", body, beforeRetry));
        var info = reply["run"]?["info"] as JsonObject ?? throw new TrackingException("MLflow runs/create: the reply has no run.info", false);
        var runId = Text(info["run_id"] ?? info["run_uuid"], "runs/create", "run_id");
        if ((string?)info["artifact_uri"] is { } artifactUri) lock (_gate) _artifactUris[runId] = artifactUri;
        return runId;
    }

    public void LogBatch(string runId, IReadOnlyList<MetricPoint> metrics, IReadOnlyDictionary<string, string> parameters,
        IReadOnlyDictionary<string, string> tags)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(tags);
        foreach (var m in metrics)
        {
            TrackingKeys.Validate(m.Key, "metric");
            if (m.TimestampMs < 0) throw new TrackingException($"metric '{m.Key}' has a negative timestamp {m.TimestampMs}", false);
        }
        var paramValues = parameters.Select(kv =>
        {
            TrackingKeys.Validate(kv.Key, "param");
            return KeyValuePair.Create(kv.Key, TrackingKeys.TruncateValue(kv.Key, kv.Value, TrackingKeys.MaxParamValueLength, "param"));
        }).ToList();
        var tagValues = tags.Select(kv =>
        {
            TrackingKeys.Validate(kv.Key, "tag");
            return KeyValuePair.Create(kv.Key, TrackingKeys.TruncateValue(kv.Key, kv.Value, TrackingKeys.MaxTagValueLength, "tag"));
        }).ToList();
        foreach (var chunk in LogBatchSplitter.Split(runId, metrics, paramValues, tagValues))
            Checked("runs/log-batch", Post("runs/log-batch", chunk));
    }

    public void LogArtifact(string runId, string relativePath, ReadOnlyMemory<byte> content)
    {
        TrackingKeys.ValidateArtifactPath(relativePath);
        var artifactUri = ArtifactUriOf(runId);
        if (artifactUri.StartsWith("mlflow-artifacts:", StringComparison.OrdinalIgnoreCase))
        {
            var route = ArtifactsApi + EscapePath(ProxiedPath(artifactUri) + "/" + relativePath);
            var reply = _http.Send("artifact upload", () =>
            {
                var content1 = new ByteArrayContent(content.ToArray());
                content1.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                return new HttpRequestMessage(HttpMethod.Put, route) { Content = content1 };
            });
            Checked($"artifact upload of '{relativePath}'", reply);
            return;
        }
        if (MlrunsPaths.LocalPathOfFileUri(artifactUri) is { } directory)
        {
            // The server stores this run's artifacts in a folder we can reach: write there, as MLflow's client does.
            var path = Path.Combine(directory, relativePath);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            AtomicFile.Replace(path, content.Span);
            return;
        }
        throw new TrackingException(
            $"run {runId} stores artifacts at '{artifactUri}'; only mlflow-artifacts: (mlflow server with --serve-artifacts, the default) " +
            "and local file: locations are supported", false);
    }

    // mlflow-artifacts:/1/<run>/artifacts and mlflow-artifacts://host:port/1/<run>/artifacts both mean path 1/<run>/artifacts.
    private static string ProxiedPath(string artifactUri)
    {
        var rest = artifactUri["mlflow-artifacts:".Length..];
        if (rest.StartsWith("//", StringComparison.Ordinal))
        {
            int slash = rest.IndexOf('/', 2);
            rest = slash < 0 ? "" : rest[slash..];
        }
        return rest.Trim('/');
    }

    private static string EscapePath(string path) => string.Join('/', path.Split('/').Select(System.Uri.EscapeDataString));

    private string ArtifactUriOf(string runId)
    {
        lock (_gate)
            if (_artifactUris.TryGetValue(runId, out var known)) return known;
        var reply = Checked("runs/get", Get("runs/get", ("run_id", runId)));
        var uri = (string?)reply["run"]?["info"]?["artifact_uri"]
                  ?? throw new TrackingException($"MLflow runs/get: run {runId} has no artifact_uri", false);
        lock (_gate) _artifactUris[runId] = uri;
        return uri;
    }

    public void EndRun(string runId, RunStatus status, long endTimeMs)
    {
        if (!Enum.IsDefined(status)) throw new TrackingException($"run status {(int)status} is not an MLflow run status", false);
        Checked("runs/update", Post("runs/update", new JsonObject
        {
            ["run_id"] = runId, ["status"] = status.ToString().ToUpperInvariant(), ["end_time"] = endTimeMs,
        }));
    }

    /// <summary>The tag that makes run creation idempotent across retries and outbox redeliveries.</summary>
    public const string ClientRunIdTag = "peft.client_run_id";

    private MlflowResponse? FindEarlierRun(string experimentId, string clientRunId)
    {
        try
        {
            var run = SearchRuns(experimentId, ClientRunIdTag, clientRunId).FirstOrDefault();
            return run is null ? null : new MlflowResponse(200, new JsonObject { ["run"] = run.DeepClone() }.ToJsonString());
        }
        catch (TrackingException e) when (e.Transient)
        {
            return null; // the retry itself will tell
        }
    }

    public IReadOnlyList<TrackedRun> FindRuns(string experimentId, string tagKey, string tagValue) =>
        SearchRuns(experimentId, tagKey, tagValue).Select(ToTrackedRun).ToList();

    private List<JsonObject> SearchRuns(string experimentId, string tagKey, string tagValue)
    {
        TrackingKeys.Validate(tagKey, "tag");
        var filter = $"tags.{QuoteKey(tagKey)} = {QuoteValue(tagValue)}";
        var runs = new List<JsonObject>();
        string? pageToken = null;
        do
        {
            var body = new JsonObject
            {
                ["experiment_ids"] = new JsonArray(experimentId), ["filter"] = filter, ["run_view_type"] = "ACTIVE_ONLY", ["max_results"] = 1000,
            };
            if (pageToken is not null) body["page_token"] = pageToken;
            var reply = Checked("runs/search", Post("runs/search", body));
            foreach (var run in reply["runs"] as JsonArray ?? [])
                runs.Add(run as JsonObject ?? throw new TrackingException("MLflow runs/search: a run is not an object", false));
            pageToken = (string?)reply["next_page_token"];
        } while (!string.IsNullOrEmpty(pageToken));
        return runs;
    }

    private static TrackedRun ToTrackedRun(JsonObject run)
    {
        var info = run["info"] as JsonObject ?? [];
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var tag in run["data"]?["tags"] as JsonArray ?? [])
            if ((string?)tag?["key"] is { } key) tags[key] = (string?)tag["value"] ?? "";
        var statusNode = info["status"];
        var status = statusNode is JsonValue v && v.TryGetValue<int>(out var n) ? (RunStatus)n
            : Enum.TryParse<RunStatus>((string?)statusNode, ignoreCase: true, out var s) ? s : RunStatus.Running;
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in run["data"]?["params"] as JsonArray ?? [])
            if ((string?)p?["key"] is { } key) parameters[key] = (string?)p["value"] ?? "";
        // runs/search returns each metric's latest value; protobuf JSON writes NaN and infinities as strings.
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var m in run["data"]?["metrics"] as JsonArray ?? [])
            if ((string?)m?["key"] is { } key && m["value"] is JsonValue value)
            {
                if (value.TryGetValue<double>(out var d)) metrics[key] = d;
                else if (double.TryParse((string?)value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out d)) metrics[key] = d;
            }
        return new TrackedRun(Text(info["run_id"] ?? info["run_uuid"], "runs/search", "run_id"),
            (string?)info["run_name"] ?? tags.GetValueOrDefault("mlflow.runName", ""), status, tags)
        {
            Params = parameters, Metrics = metrics,
        };
    }

    // MLflow's search grammar: keys with '.', '-' or spaces in double quotes (backticks if the key has a quote);
    // values in single quotes, or double quotes when they contain a single quote.
    private static string QuoteKey(string key) => key.Contains('"') ? $"`{key}`" : $"\"{key}\"";

    private static string QuoteValue(string value)
    {
        if (!value.Contains('\'')) return $"'{value}'";
        if (!value.Contains('"')) return $"\"{value}\"";
        throw new TrackingException($"tag value '{value}' contains both quote kinds; MLflow's search filter cannot express it", false);
    }

    private MlflowResponse Get(string route, params (string name, string value)[] query)
    {
        var url = Api + route + "?" + string.Join('&', query.Select(q => $"{System.Uri.EscapeDataString(q.name)}={System.Uri.EscapeDataString(q.value)}"));
        return _http.Send(route, () => new HttpRequestMessage(HttpMethod.Get, url));
    }

    private MlflowResponse Post(string route, JsonObject body, Func<MlflowResponse?>? beforeRetry = null)
    {
        var json = body.ToJsonString();
        return _http.Send(route, () => new HttpRequestMessage(HttpMethod.Post, Api + route)
        {
            Content = new StringContent(json, Encoding.UTF8, "application/json"),
        }, beforeRetry);
    }

    private static JsonObject Checked(string operation, MlflowResponse reply)
    {
        if (!reply.IsSuccess) throw Refused(operation, reply);
        try
        {
            return reply.Json();
        }
        catch (JsonException e)
        {
            throw new TrackingException($"MLflow {operation}: the reply is not JSON ({reply.Describe()})", false, e);
        }
    }

    private static TrackingException Refused(string operation, MlflowResponse reply) =>
        new($"MLflow {operation} refused: {reply.Describe()}", transient: MlflowHttp.IsRetried(reply.Status));

    private static string Text(JsonNode? node, string operation, string field) => node switch
    {
        JsonValue v when v.TryGetValue<string>(out var s) && s.Length > 0 => s,
        JsonValue v when v.TryGetValue<long>(out var n) => n.ToString(System.Globalization.CultureInfo.InvariantCulture),
        _ => throw new TrackingException($"MLflow {operation}: the reply has no '{field}'", false),
    };

    public void Dispose() => _http.Dispose();
}
