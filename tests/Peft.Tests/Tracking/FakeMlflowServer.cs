using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Peft.Tests.Tracking;

/// <summary>
/// An in-process MLflow tracking server for tests, following reference/mlflow.md §1: the /api/2.0/mlflow routes we
/// use, JSON Content-Type check, snake_case replies with int64 numbers and enum names, MLflow error bodies and
/// their HTTP statuses, log-batch limits, write-once params, run-name/tag rules, the artifact PUT proxy, search
/// with a tag filter and paging, and Basic/Bearer checking. Failures can be injected: N replies with a status
/// (and Retry-After), latency, replies lost after the request was applied, and stop/start (connection refused).
/// </summary>
public sealed partial class FakeMlflowServer : IDisposable
{
    private HttpListener? _listener;
    private Thread? _loop;
    private readonly object _gate = new();
    private readonly Queue<(int status, string? retryAfter, string? code)> _failures = new();
    private int _lostReplies;
    private long _nextExperimentId = 1;

    public int Port { get; }
    public string Uri => $"http://127.0.0.1:{Port}";

    /// <summary>When set, requests must carry exactly this Authorization header.</summary>
    public string? RequiredAuthorization { get; set; }
    public TimeSpan Latency { get; set; }
    /// <summary>Page size of runs/search, to exercise paging with few runs.</summary>
    public int SearchPageSize { get; set; } = 1000;
    /// <summary>Artifact root of new experiments: mlflow-artifacts:/ (the server default) or e.g. a file: URI.</summary>
    public string ArtifactRoot { get; set; } = "mlflow-artifacts:/";

    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();
    public Dictionary<string, Experiment> Experiments { get; } = new();
    public Dictionary<string, Run> Runs { get; } = new();
    public ConcurrentDictionary<string, byte[]> Artifacts { get; } = new();

    public sealed record RecordedRequest(string Method, string Path, string Query, string Body, string? ContentType, string? Authorization);

    public sealed class Experiment
    {
        public required string Id, Name, ArtifactLocation;
        public string LifecycleStage = "active";
    }

    public sealed class Run
    {
        public required string Id, ExperimentId, ArtifactUri;
        public string Name = "", Status = "RUNNING";
        public long StartTime;
        public long? EndTime;
        public Dictionary<string, string> Params = new(), Tags = new();
        public List<(string key, JsonNode value, long timestamp, long step)> Metrics = new();
    }

    public FakeMlflowServer()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        Port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        Experiments["0"] = new Experiment { Id = "0", Name = "Default", ArtifactLocation = "mlflow-artifacts:/0" };
        Start();
    }

    public void Start()
    {
        _listener = new HttpListener();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        var listener = _listener;
        _loop = new Thread(() => Serve(listener)) { IsBackground = true, Name = "fake-mlflow" };
        _loop.Start();
    }

    /// <summary>Stops listening: clients get "connection refused" until <see cref="Start"/>.</summary>
    public void Stop()
    {
        _listener?.Close();
        _loop?.Join();
        _listener = null;
    }

    /// <summary>The next requests fail with this status (503 as plain text, like a disabled proxy; others as MLflow JSON errors).</summary>
    public void FailNext(int count, int status, string? retryAfter = null, string? errorCode = null)
    {
        lock (_gate) for (int i = 0; i < count; i++) _failures.Enqueue((status, retryAfter, errorCode));
    }

    /// <summary>The next <paramref name="count"/> requests are applied but their reply is lost (connection reset).</summary>
    public void LoseRepliesAfterApplying(int count)
    {
        lock (_gate) _lostReplies += count;
    }

    public IEnumerable<RecordedRequest> RequestsTo(string pathSuffix) => Requests.Where(r => r.Path.EndsWith(pathSuffix, StringComparison.Ordinal));

    private void Serve(HttpListener listener)
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try { context = listener.GetContext(); }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException) { return; }
            try { Handle(context); }
            catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException) { }
        }
    }

    private void Handle(HttpListenerContext context)
    {
        var request = context.Request;
        var raw = new MemoryStream();
        request.InputStream.CopyTo(raw);
        var body = Encoding.UTF8.GetString(raw.ToArray());
        var path = request.Url!.AbsolutePath;
        Requests.Enqueue(new RecordedRequest(request.HttpMethod, path, request.Url.Query, body, request.ContentType, request.Headers["Authorization"]));
        if (Latency > TimeSpan.Zero) Thread.Sleep(Latency);

        (int status, string? retryAfter, string? code)? failure = null;
        bool loseReply;
        lock (_gate)
        {
            if (_failures.Count > 0) failure = _failures.Dequeue();
            loseReply = failure is null && _lostReplies > 0 && _lostReplies-- > 0;
        }
        if (failure is { } f)
        {
            if (f.retryAfter is not null) context.Response.Headers["Retry-After"] = f.retryAfter;
            Reply(context, f.status, f.status == 503 ? "Service Unavailable" : Error(f.code ?? (f.status == 429 ? "REQUEST_LIMIT_EXCEEDED" : "INTERNAL_ERROR"), "injected failure"),
                f.status == 503 ? "text/plain" : "application/json");
            return;
        }
        if (RequiredAuthorization is not null && request.Headers["Authorization"] != RequiredAuthorization)
        {
            Reply(context, 401, "You are not authenticated. Please see the documentation.", "text/plain");
            return;
        }
        int replyStatus;
        string replyBody;
        try
        {
            lock (_gate) (replyStatus, replyBody) = Route(request.HttpMethod, path, request, body, raw.ToArray());
        }
        catch (MlflowError e)
        {
            (replyStatus, replyBody) = (e.Status, Error(e.Code, e.Message));
        }
        if (loseReply)
        {
            // Applied, but the reply breaks off: announce a body, send part of it, drop the connection.
            context.Response.StatusCode = 200;
            context.Response.ContentLength64 = 1000;
            context.Response.OutputStream.Write("{\"run\""u8);
            context.Response.OutputStream.Flush();
            context.Response.Abort();
            return;
        }
        Reply(context, replyStatus, replyBody, replyStatus == 404 && replyBody.StartsWith('<') ? "text/html" : "application/json");
    }

    private static void Reply(HttpListenerContext context, int status, string body, string contentType)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = contentType;
        var bytes = Encoding.UTF8.GetBytes(body);
        context.Response.ContentLength64 = bytes.Length;
        context.Response.OutputStream.Write(bytes);
        context.Response.Close();
    }

    private sealed class MlflowError(string code, string message) : Exception(message)
    {
        public string Code { get; } = code;
        // ERROR_CODE_TO_HTTP_STATUS in mlflow/exceptions.py.
        public int Status => Code switch
        {
            "RESOURCE_DOES_NOT_EXIST" => 404,
            "PERMISSION_DENIED" => 403,
            "UNAUTHENTICATED" => 401,
            "INTERNAL_ERROR" => 500,
            _ => 400, // INVALID_PARAMETER_VALUE, BAD_REQUEST, RESOURCE_ALREADY_EXISTS
        };
    }

    private static string Error(string code, string message) => new JsonObject { ["error_code"] = code, ["message"] = message }.ToJsonString();

    private (int, string) Route(string method, string path, HttpListenerRequest request, string body, byte[] raw)
    {
        const string artifacts = "/api/2.0/mlflow-artifacts/artifacts/";
        if (method == "PUT" && path.StartsWith(artifacts, StringComparison.Ordinal))
        {
            var relative = System.Uri.UnescapeDataString(path[artifacts.Length..]);
            if (relative.Split('/').Any(p => p is ".." or "")) throw new MlflowError("INVALID_PARAMETER_VALUE", $"Invalid path '{relative}'");
            Artifacts[relative] = raw;
            return (200, "{}");
        }
        var route = (method, path) switch
        {
            ("GET", "/api/2.0/mlflow/experiments/get-by-name") => GetByName(request.QueryString["experiment_name"]),
            ("POST", "/api/2.0/mlflow/experiments/create") => CreateExperiment(Json(request, body)),
            ("POST", "/api/2.0/mlflow/runs/create") => CreateRun(Json(request, body)),
            ("POST", "/api/2.0/mlflow/runs/update") => UpdateRun(Json(request, body)),
            ("POST", "/api/2.0/mlflow/runs/log-batch") => LogBatch(Json(request, body)),
            ("GET", "/api/2.0/mlflow/runs/get") => new JsonObject { ["run"] = RunJson(FindRun(request.QueryString["run_id"])) },
            ("POST", "/api/2.0/mlflow/runs/search") => Search(Json(request, body)),
            _ => null,
        };
        return route is null ? (404, "<!doctype html><title>404 Not Found</title><h1>Not Found</h1>") : (200, route.ToJsonString());
    }

    private static JsonObject Json(HttpListenerRequest request, string body)
    {
        var type = request.ContentType ?? "";
        if (!type.Split(';')[0].Trim().Equals("application/json", StringComparison.OrdinalIgnoreCase))
            throw new MlflowError("INVALID_PARAMETER_VALUE", "Bad Request. Content-Type must be one of [application/json]");
        return JsonNode.Parse(body) as JsonObject ?? throw new MlflowError("INVALID_PARAMETER_VALUE", "body is not an object");
    }

    private JsonObject GetByName(string? name)
    {
        var matches = Experiments.Values.Where(e => e.Name == name).OrderBy(e => e.LifecycleStage == "active" ? 0 : 1).ToList();
        if (matches.Count == 0) throw new MlflowError("RESOURCE_DOES_NOT_EXIST", $"Could not find experiment with name '{name}'");
        return new JsonObject { ["experiment"] = ExperimentJson(matches[0]) };
    }

    private static JsonObject ExperimentJson(Experiment e) => new()
    {
        ["experiment_id"] = e.Id, ["name"] = e.Name, ["artifact_location"] = e.ArtifactLocation, ["lifecycle_stage"] = e.LifecycleStage,
        ["creation_time"] = 1L, ["last_update_time"] = 1L,
    };

    private JsonObject CreateExperiment(JsonObject body)
    {
        var name = (string?)body["name"];
        if (string.IsNullOrEmpty(name)) throw new MlflowError("INVALID_PARAMETER_VALUE", "Missing value for required parameter 'name'.");
        if (Experiments.Values.Any(e => e.Name == name))
            throw new MlflowError("RESOURCE_ALREADY_EXISTS", $"Experiment(name={name}) already exists. Error: (raised as a result of Query-invoked autoflush)");
        var id = (_nextExperimentId++).ToString();
        Experiments[id] = new Experiment { Id = id, Name = name, ArtifactLocation = ArtifactRoot.TrimEnd('/') + "/" + id };
        return new JsonObject { ["experiment_id"] = id };
    }

    private JsonObject CreateRun(JsonObject body)
    {
        var experimentId = (string?)body["experiment_id"] is { Length: > 0 } id ? id : "0";
        if (!Experiments.TryGetValue(experimentId, out var experiment))
            throw new MlflowError("RESOURCE_DOES_NOT_EXIST", $"No Experiment with id={experimentId} exists");
        var tags = KeyValues(body["tags"], "tags");
        var runName = (string?)body["run_name"];
        if (!string.IsNullOrEmpty(runName) && tags.TryGetValue("mlflow.runName", out var tagName) && tagName != runName)
            throw new MlflowError("INVALID_PARAMETER_VALUE", $"Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values (run_name='{runName}', mlflow.runName='{tagName}').");
        runName = !string.IsNullOrEmpty(runName) ? runName : tags.GetValueOrDefault("mlflow.runName") ?? "wistful-ant-659";
        tags["mlflow.runName"] = runName;
        var runId = Guid.NewGuid().ToString("N");
        var run = new Run
        {
            Id = runId, ExperimentId = experimentId, ArtifactUri = $"{experiment.ArtifactLocation}/{runId}/artifacts", Name = runName,
            StartTime = body["start_time"]?.GetValue<long>() ?? 0, Tags = tags,
        };
        Runs[runId] = run;
        return new JsonObject { ["run"] = RunJson(run) };
    }

    private Run FindRun(string? runId) => runId is not null && Runs.TryGetValue(runId, out var run) ? run
        : throw new MlflowError("RESOURCE_DOES_NOT_EXIST", $"Run with id={runId} not found");

    private JsonObject UpdateRun(JsonObject body)
    {
        var run = FindRun((string?)body["run_id"] ?? (string?)body["run_uuid"]);
        if ((string?)body["status"] is { } status)
        {
            if (status is not ("RUNNING" or "SCHEDULED" or "FINISHED" or "FAILED" or "KILLED"))
                throw new MlflowError("INVALID_PARAMETER_VALUE", $"Invalid value \"{status}\" for parameter 'status'");
            run.Status = status;
        }
        if (body["end_time"] is { } end) run.EndTime = end.GetValue<long>();
        return new JsonObject { ["run_info"] = RunJson(run)["info"]!.DeepClone() };
    }

    private JsonObject LogBatch(JsonObject body)
    {
        var run = FindRun((string?)body["run_id"]);
        var metrics = body["metrics"] as JsonArray ?? [];
        var parameters = body["params"] as JsonArray ?? [];
        var tags = body["tags"] as JsonArray ?? [];
        if (metrics.Count > 1000 || parameters.Count > 100 || tags.Count > 100 || metrics.Count + parameters.Count + tags.Count > 1000)
            throw new MlflowError("INVALID_PARAMETER_VALUE",
                $"A batch logging request can contain at most 1000 metrics, 100 params, 100 tags and 1000 items in total. Got {metrics.Count} metrics, {parameters.Count} params and {tags.Count} tags.");
        for (int i = 0; i < metrics.Count; i++)
        {
            var m = metrics[i] as JsonObject ?? [];
            foreach (var field in new[] { "key", "value", "timestamp" })
                if (m[field] is null) throw new MlflowError("INVALID_PARAMETER_VALUE", $"Missing value for required parameter 'metrics[{i}].{field}'.");
            if (m["value"] is JsonValue v && v.TryGetValue<string>(out var s) && s is not ("NaN" or "Infinity" or "-Infinity"))
                throw new MlflowError("INVALID_PARAMETER_VALUE", $"Invalid value for metrics[{i}].value: '{s}'");
        }
        var newParams = KeyValues(parameters, "params", rejectDuplicates: true);
        foreach (var (key, value) in newParams)
            if (run.Params.TryGetValue(key, out var old) && old != value)
                throw new MlflowError("INVALID_PARAMETER_VALUE",
                    $"Changing param values is not allowed. Param with key='{key}' was already logged with value='{old}' for run ID='{run.Id}'. Attempted logging new value '{value}'.");
        foreach (var (key, value) in newParams) run.Params[key] = value;
        foreach (var m in metrics.OfType<JsonObject>())
            run.Metrics.Add(((string)m["key"]!, m["value"]!.DeepClone(), m["timestamp"]!.GetValue<long>(), m["step"]?.GetValue<long>() ?? 0));
        foreach (var (key, value) in KeyValues(tags, "tags"))
        {
            run.Tags[key] = value;
            if (key == "mlflow.runName") run.Name = value;
        }
        return [];
    }

    [GeneratedRegex("""^tags\.(?:"([^"]+)"|`([^`]+)`|(\w+)) = (?:'([^']*)'|"([^"]*)")$""")]
    private static partial Regex TagFilter();

    private JsonObject Search(JsonObject body)
    {
        var ids = (body["experiment_ids"] as JsonArray ?? []).Select(n => (string?)n).ToHashSet();
        var filter = (string?)body["filter"] ?? "";
        Func<Run, bool> matches = _ => true;
        if (filter.Length > 0)
        {
            var m = TagFilter().Match(filter);
            if (!m.Success) throw new MlflowError("INVALID_PARAMETER_VALUE", $"Invalid filter '{filter}'");
            var key = m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Success ? m.Groups[2].Value : m.Groups[3].Value;
            var value = m.Groups[4].Success ? m.Groups[4].Value : m.Groups[5].Value;
            matches = r => r.Tags.TryGetValue(key, out var v) && v == value;
        }
        int offset = int.TryParse((string?)body["page_token"], out var o) ? o : 0;
        int pageSize = Math.Min(SearchPageSize, body["max_results"]?.GetValue<int>() ?? 1000);
        var all = Runs.Values.Where(r => ids.Contains(r.ExperimentId) && matches(r)).OrderByDescending(r => r.StartTime).ThenBy(r => r.Id).ToList();
        var reply = new JsonObject();
        var page = all.Skip(offset).Take(pageSize).Select(r => (JsonNode)RunJson(r)).ToArray();
        if (page.Length > 0) reply["runs"] = new JsonArray(page);
        if (offset + pageSize < all.Count) reply["next_page_token"] = (offset + pageSize).ToString();
        return reply;
    }

    private static Dictionary<string, string> KeyValues(JsonNode? node, string field, bool rejectDuplicates = false)
    {
        var result = new Dictionary<string, string>();
        int i = 0;
        foreach (var item in node as JsonArray ?? [])
        {
            var key = (string?)item?["key"] ?? throw new MlflowError("INVALID_PARAMETER_VALUE", $"Missing value for required parameter '{field}[{i}].key'.");
            if (rejectDuplicates && result.ContainsKey(key))
                throw new MlflowError("INVALID_PARAMETER_VALUE", $"Duplicate parameter keys have been submitted: ['{key}']");
            result[key] = (string?)item["value"] ?? "";
            i++;
        }
        return result;
    }

    private static JsonObject RunJson(Run run)
    {
        var info = new JsonObject
        {
            ["run_id"] = run.Id, ["run_uuid"] = run.Id, ["run_name"] = run.Name, ["experiment_id"] = run.ExperimentId, ["user_id"] = "",
            ["status"] = run.Status, ["start_time"] = run.StartTime, ["artifact_uri"] = run.ArtifactUri, ["lifecycle_stage"] = "active",
        };
        if (run.EndTime is { } end) info["end_time"] = end;
        var data = new JsonObject();
        if (run.Params.Count > 0) data["params"] = new JsonArray(run.Params.Select(p => (JsonNode)new JsonObject { ["key"] = p.Key, ["value"] = p.Value }).ToArray());
        if (run.Tags.Count > 0) data["tags"] = new JsonArray(run.Tags.Select(p => (JsonNode)new JsonObject { ["key"] = p.Key, ["value"] = p.Value }).ToArray());
        return new JsonObject { ["info"] = info, ["data"] = data };
    }

    public void Dispose() => Stop();
}
