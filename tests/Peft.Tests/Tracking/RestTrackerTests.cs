using System.Text;
using System.Text.Json.Nodes;
using Peft.Core.Tracking;
using Peft.Tracking.Rest;

namespace Peft.Tests.Tracking;

/// <summary>The REST client against <see cref="FakeMlflowServer"/>: routes, batching, retries, auth, errors.</summary>
public sealed class RestTrackerTests : TempDirectory, IDisposable
{
    private readonly FakeMlflowServer _server = new();
    private readonly List<TimeSpan> _sleeps = [];

    public RestTrackerTests() : base("peft-rest-") { }

    private RestTracker Tracker(int maxRetries = 3, MlflowCredentials? credentials = null, TimeSpan? timeout = null) =>
        new(_server.Uri, new RestTrackerOptions
        {
            MaxRetries = maxRetries, BackoffFactor = 0.5, BackoffJitter = 0, Timeout = timeout ?? TimeSpan.FromSeconds(10),
            Credentials = credentials ?? MlflowCredentials.None, Sleep = _sleeps.Add,
        });

    private static Dictionary<string, string> NoTags => new();

    void IDisposable.Dispose()
    {
        _server.Dispose();
        Dispose();
    }

    [Fact]
    public void Get_or_create_uses_get_by_name_in_the_query_then_a_json_create()
    {
        using var tracker = Tracker();
        var id = tracker.GetOrCreateExperiment("few shot");
        Assert.Equal(id, tracker.GetOrCreateExperiment("few shot"));
        Assert.Single(_server.Experiments.Values, e => e.Name == "few shot");
        var get = _server.RequestsTo("/experiments/get-by-name").First();
        Assert.Equal(("GET", "?experiment_name=few%20shot"), (get.Method, get.Query));
        var create = Assert.Single(_server.RequestsTo("/experiments/create"));
        Assert.Equal("application/json; charset=utf-8", create.ContentType);
        Assert.Equal("few shot", (string?)JsonNode.Parse(create.Body)!["name"]);
    }

    [Fact]
    public void A_create_race_is_resolved_by_getting_the_winner()
    {
        using var tracker = Tracker();
        _server.Experiments["7"] = new FakeMlflowServer.Experiment { Id = "7", Name = "raced", ArtifactLocation = "mlflow-artifacts:/7" };
        _server.FailNext(1, 404, errorCode: "RESOURCE_DOES_NOT_EXIST"); // the other process had not created it yet
        Assert.Equal("7", tracker.GetOrCreateExperiment("raced"));
        Assert.Equal(2, _server.RequestsTo("/experiments/get-by-name").Count());
        Assert.Single(_server.RequestsTo("/experiments/create"));
    }

    [Fact]
    public void A_deleted_experiment_of_that_name_says_restore_or_gc()
    {
        _server.Experiments["3"] = new FakeMlflowServer.Experiment { Id = "3", Name = "old", ArtifactLocation = "x", LifecycleStage = "deleted" };
        using var tracker = Tracker();
        var e = Assert.Throws<TrackingException>(() => tracker.GetOrCreateExperiment("old"));
        Assert.Contains("'old'", e.Message);
        Assert.Contains("mlflow gc", e.Message);
        Assert.False(e.Transient);
    }

    [Fact]
    public void Create_run_sends_start_time_name_and_tags_and_end_run_updates_status()
    {
        using var tracker = Tracker();
        var exp = tracker.GetOrCreateExperiment("e");
        var runId = tracker.CreateRun(exp, "coop", 1_700_000_000_000, new Dictionary<string, string> { ["mlflow.parentRunId"] = "p" });
        var body = JsonNode.Parse(Assert.Single(_server.RequestsTo("/runs/create")).Body)!;
        Assert.Equal(1_700_000_000_000, (long)body["start_time"]!);
        Assert.Equal("coop", (string?)body["run_name"]);
        Assert.Equal(exp, (string?)body["experiment_id"]);
        var run = _server.Runs[runId];
        Assert.Equal(("coop", "p"), (run.Name, run.Tags["mlflow.parentRunId"]));
        tracker.EndRun(runId, RunStatus.Finished, 1_700_000_000_500);
        Assert.Equal(("FINISHED", 1_700_000_000_500L), (run.Status, run.EndTime!.Value));
    }

    [Fact]
    public void Refusals_name_the_operation_status_error_code_and_message()
    {
        using var tracker = Tracker();
        var exp = tracker.GetOrCreateExperiment("e");
        var e = Assert.Throws<TrackingException>(() =>
            tracker.CreateRun(exp, "a", 1, new Dictionary<string, string> { ["mlflow.runName"] = "b" }));
        Assert.Contains("runs/create", e.Message);
        Assert.Contains("HTTP 400 INVALID_PARAMETER_VALUE", e.Message);
        Assert.Contains("different values", e.Message);
        Assert.False(e.Transient);

        var runId = tracker.CreateRun(exp, "r", 1, NoTags);
        tracker.LogBatch(runId, [], new Dictionary<string, string> { ["lr"] = "0.1" }, NoTags);
        tracker.LogBatch(runId, [], new Dictionary<string, string> { ["lr"] = "0.1" }, NoTags);
        var changed = Assert.Throws<TrackingException>(() => tracker.LogBatch(runId, [], new Dictionary<string, string> { ["lr"] = "0.2" }, NoTags));
        Assert.Contains("runs/log-batch", changed.Message);
        Assert.Contains("key='lr'", changed.Message);
    }

    [Fact]
    public void Non_json_error_bodies_are_reported_with_their_start()
    {
        using var tracker = new RestTracker(_server.Uri + "/wrong-prefix", new RestTrackerOptions { MaxRetries = 0, Sleep = _sleeps.Add });
        var e = Assert.Throws<TrackingException>(() => tracker.GetOrCreateExperiment("e"));
        Assert.Contains("HTTP 404: <!doctype html><title>404 Not Found</title>", e.Message);
        Assert.False(e.Transient);
    }

    [Fact]
    public void Batches_are_split_to_mlflow_limits_and_nothing_is_lost()
    {
        using var tracker = Tracker();
        var runId = tracker.CreateRun(tracker.GetOrCreateExperiment("e"), "r", 1, NoTags);
        var metrics = Enumerable.Range(0, 2500).Select(i => new MetricPoint("loss", i, 1000 + i, i)).ToList();
        var parameters = Enumerable.Range(0, 250).ToDictionary(i => $"p{i}", i => i.ToString());
        var tags = Enumerable.Range(0, 150).ToDictionary(i => $"t{i}", i => i.ToString());
        tracker.LogBatch(runId, metrics, parameters, tags);
        var batches = _server.RequestsTo("/runs/log-batch").Select(r => JsonNode.Parse(r.Body)!).ToList();
        var counts = batches.Select(b => (m: b["metrics"]!.AsArray().Count, p: b["params"]!.AsArray().Count, t: b["tags"]!.AsArray().Count)).ToList();
        Assert.Equal([(0, 100, 0), (0, 100, 0), (0, 50, 100), (950, 0, 50), (1000, 0, 0), (550, 0, 0)], counts);
        var run = _server.Runs[runId];
        Assert.Equal(2500, run.Metrics.Count);
        Assert.Equal(250, run.Params.Count);
        Assert.Equal(Enumerable.Range(0, 2500).Select(i => (long)i), run.Metrics.Select(m => m.step)); // order kept
    }

    [Fact]
    public void Bodies_stay_under_one_megabyte()
    {
        var parameters = Enumerable.Range(0, 100).Select(i => KeyValuePair.Create($"p{i}", new string('x', 6000)));
        var tags = Enumerable.Range(0, 100).Select(i => KeyValuePair.Create($"t{i}", new string('y', 8000)));
        var chunks = LogBatchSplitter.Split("run", [], parameters, tags).ToList();
        Assert.True(chunks.Count >= 2);
        Assert.All(chunks, c => Assert.True(Encoding.UTF8.GetByteCount(c.ToJsonString()) < 1_000_000));
        Assert.Equal(200, chunks.Sum(c => c["params"]!.AsArray().Count + c["tags"]!.AsArray().Count));
    }

    [Fact]
    public void Nan_and_infinities_are_sent_as_protobuf_json_strings()
    {
        using var tracker = Tracker();
        var runId = tracker.CreateRun(tracker.GetOrCreateExperiment("e"), "r", 1, NoTags);
        tracker.LogBatch(runId, [new("a", double.NaN, 1), new("b", double.PositiveInfinity, 1), new("c", double.NegativeInfinity, 1), new("d", 0.1, 1)],
            new Dictionary<string, string>(), NoTags);
        var body = _server.RequestsTo("/runs/log-batch").Single().Body;
        Assert.Contains("\"value\":\"NaN\"", body);
        Assert.Contains("\"value\":\"Infinity\"", body);
        Assert.Contains("\"value\":\"-Infinity\"", body);
        Assert.Contains("\"value\":0.1", body);
    }

    [Fact]
    public void Bad_keys_fail_before_anything_is_sent_and_long_values_are_truncated()
    {
        using var tracker = Tracker();
        var runId = tracker.CreateRun(tracker.GetOrCreateExperiment("e"), "r", 1, NoTags);
        var e = Assert.Throws<TrackingException>(() => tracker.LogBatch(runId, [new("ok", 1, 1), new("../bad", 1, 1)], new Dictionary<string, string>(), NoTags));
        Assert.Contains("'../bad'", e.Message);
        Assert.Empty(_server.RequestsTo("/runs/log-batch"));
        tracker.LogBatch(runId, [], new Dictionary<string, string> { ["p"] = new string('x', 6001) }, new Dictionary<string, string> { ["t"] = new string('y', 8001) });
        Assert.Equal((6000, 8000), (_server.Runs[runId].Params["p"].Length, _server.Runs[runId].Tags["t"].Length));
    }

    [Fact]
    public void Transient_statuses_are_retried_with_exponential_backoff()
    {
        using var tracker = Tracker(maxRetries: 4);
        _server.FailNext(4, 503);
        tracker.GetOrCreateExperiment("e");
        Assert.Equal(5, _server.RequestsTo("/experiments/get-by-name").Count());
        // urllib3's schedule: no wait before the first retry (Polly does not sleep for a zero wait), then factor·2^(n-1).
        Assert.Equal([TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4)], _sleeps);
    }

    [Fact]
    public void Retry_after_is_honoured()
    {
        using var tracker = Tracker();
        _server.FailNext(1, 429, retryAfter: "3");
        tracker.GetOrCreateExperiment("e");
        Assert.Equal([TimeSpan.FromSeconds(3)], _sleeps);
    }

    [Fact]
    public void Retry_after_is_capped_and_may_be_a_date()
    {
        using var tracker = Tracker();
        _server.FailNext(1, 503, retryAfter: "1000");
        tracker.GetOrCreateExperiment("e");
        Assert.Equal([TimeSpan.FromSeconds(RestTrackerOptions.MaxBackoffSeconds)], _sleeps);
        _sleeps.Clear();
        _server.FailNext(1, 503, retryAfter: DateTimeOffset.UtcNow.AddSeconds(30).ToString("R"));
        tracker.GetOrCreateExperiment("e");
        var wait = Assert.Single(_sleeps);
        Assert.InRange(wait, TimeSpan.FromSeconds(25), TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void Before_retry_is_asked_only_when_the_failed_attempt_may_have_been_applied_and_its_reply_ends_the_retries()
    {
        using var http = new MlflowHttp(new Uri(_server.Uri), new RestTrackerOptions { MaxRetries = 2, BackoffJitter = 0, Sleep = _sleeps.Add });
        static HttpRequestMessage Get() => new(HttpMethod.Get, "/api/2.0/mlflow/experiments/get-by-name?experiment_name=Default");
        int asked = 0;
        MlflowResponse? Ask() { asked++; return null; }

        _server.FailNext(2, 500); // a reply came: asked before each retry; no answer lets the retry go on
        Assert.Equal(200, http.Send("get", Get, Ask).Status);
        Assert.Equal(2, asked);

        _server.FailNext(1, 503);
        var requests = _server.Requests.Count;
        var earlier = new MlflowResponse(200, "{}");
        Assert.Same(earlier, http.Send("get", Get, () => earlier));
        Assert.Equal(requests + 1, _server.Requests.Count);

        _server.Stop(); // connection refused: the server never saw the request, so not asked
        asked = 0;
        var e = Assert.Throws<TrackingException>(() => http.Send("get", Get, Ask));
        Assert.Contains("MLflow get failed after 3 attempts", e.Message);
        Assert.True(e.Transient);
        Assert.Equal(0, asked);
    }

    [Fact]
    public void Exhausted_retries_are_transient_errors_naming_the_last_reply()
    {
        using var tracker = Tracker(maxRetries: 2);
        _server.FailNext(3, 500);
        var e = Assert.Throws<TrackingException>(() => tracker.GetOrCreateExperiment("e"));
        Assert.True(e.Transient);
        Assert.Contains("experiments/get-by-name failed after 3 attempts: HTTP 500 INTERNAL_ERROR: injected failure", e.Message);
        _server.FailNext(1, 503);
        using var once = Tracker(maxRetries: 0);
        Assert.Contains("HTTP 503: Service Unavailable", Assert.Throws<TrackingException>(() => once.GetOrCreateExperiment("e")).Message);
    }

    [Fact]
    public void An_unreachable_server_is_a_transient_error_after_the_retries()
    {
        _server.Stop();
        using var tracker = Tracker(maxRetries: 2);
        var e = Assert.Throws<TrackingException>(() => tracker.GetOrCreateExperiment("e"));
        Assert.True(e.Transient);
        Assert.Contains("failed after 3 attempts", e.Message);
        Assert.Contains("unreachable", e.Message);
        Assert.Equal([TimeSpan.FromSeconds(1)], _sleeps); // none before the first retry
    }

    [Fact]
    public void A_slow_reply_times_out_and_is_retried()
    {
        using var tracker = Tracker(maxRetries: 1, timeout: TimeSpan.FromMilliseconds(200));
        _server.Latency = TimeSpan.FromMilliseconds(600);
        var e = Assert.Throws<TrackingException>(() => tracker.GetOrCreateExperiment("e"));
        Assert.True(e.Transient);
        Assert.Contains("failed after 2 attempts: no reply", e.Message);
        Assert.Empty(_sleeps); // none before the first retry
    }

    [Fact]
    public void Basic_auth_wins_over_a_token_and_a_token_alone_is_bearer()
    {
        var basic = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("ann:s3cret"));
        _server.RequiredAuthorization = basic;
        using (var both = Tracker(credentials: new MlflowCredentials("ann", "s3cret", "tok")))
            both.GetOrCreateExperiment("e");
        Assert.All(_server.Requests, r => Assert.Equal(basic, r.Authorization));

        _server.RequiredAuthorization = "Bearer tok";
        using (var token = Tracker(credentials: new MlflowCredentials(null, null, "tok")))
            token.GetOrCreateExperiment("e");
        using var none = Tracker();
        var e = Assert.Throws<TrackingException>(() => none.GetOrCreateExperiment("e"));
        Assert.Contains("HTTP 401", e.Message);
        Assert.Contains("not authenticated", e.Message);
        Assert.False(e.Transient);
    }

    [Fact]
    public void Credentials_come_from_the_environment_or_the_credentials_file()
    {
        var home = Temp("home");
        Directory.CreateDirectory(Path.Combine(home, ".mlflow"));
        File.WriteAllText(Path.Combine(home, ".mlflow", "credentials"),
            "[other]\nmlflow_tracking_username = nobody\n[mlflow]\nmlflow_tracking_username = filed\nmlflow_tracking_password = pw\n");
        string[] names = ["MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN"];
        var saved = names.ToDictionary(n => n, Environment.GetEnvironmentVariable);
        try
        {
            foreach (var n in names) Environment.SetEnvironmentVariable(n, null);
            Assert.Equal(new MlflowCredentials("filed", "pw", null), MlflowCredentials.FromEnvironment(home));
            Environment.SetEnvironmentVariable("MLFLOW_TRACKING_USERNAME", "envuser");
            Environment.SetEnvironmentVariable("MLFLOW_TRACKING_TOKEN", "t");
            var creds = MlflowCredentials.FromEnvironment(home);
            Assert.Equal(new MlflowCredentials("envuser", "pw", "t"), creds);
            Assert.Equal("Basic", creds.Header()!.Scheme);
            Assert.DoesNotContain("pw", creds.ToString());
        }
        finally
        {
            foreach (var (n, v) in saved) Environment.SetEnvironmentVariable(n, v);
        }
    }

    [Fact]
    public void Artifacts_go_through_the_proxy_or_straight_into_a_file_location()
    {
        using var tracker = Tracker();
        var exp = tracker.GetOrCreateExperiment("e");
        var runId = tracker.CreateRun(exp, "r", 1, NoTags);
        byte[] bytes = [0, 255, 1, 128];
        tracker.LogArtifact(runId, "weights/adapter v1.bin", bytes);
        var put = Assert.Single(_server.Requests, r => r.Method == "PUT");
        Assert.Equal($"/api/2.0/mlflow-artifacts/artifacts/{exp}/{runId}/artifacts/weights/adapter%20v1.bin", put.Path);
        Assert.Equal(bytes, _server.Artifacts[$"{exp}/{runId}/artifacts/weights/adapter v1.bin"]);

        _server.ArtifactRoot = "file://" + Temp("artifacts");
        var fileExp = tracker.GetOrCreateExperiment("local");
        var fileRun = tracker.CreateRun(fileExp, "r", 1, NoTags);
        tracker.LogArtifact(fileRun, "split.json", bytes);
        Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(Temp("artifacts"), fileExp, fileRun, "artifacts", "split.json")));

        _server.ArtifactRoot = "s3://bucket/x";
        var s3Run = tracker.CreateRun(tracker.GetOrCreateExperiment("s3"), "r", 1, NoTags);
        var e = Assert.Throws<TrackingException>(() => tracker.LogArtifact(s3Run, "a.txt", bytes));
        Assert.Contains("s3://bucket/x", e.Message);
    }

    [Fact]
    public void Find_runs_filters_by_tag_and_follows_pages()
    {
        using var tracker = Tracker();
        var exp = tracker.GetOrCreateExperiment("e");
        var wanted = Enumerable.Range(0, 5).Select(i => tracker.CreateRun(exp, $"r{i}", i, new Dictionary<string, string> { ["peft.cell"] = "a/1" })).ToList();
        tracker.CreateRun(exp, "other", 9, new Dictionary<string, string> { ["peft.cell"] = "b/1" });
        tracker.EndRun(wanted[0], RunStatus.Finished, 10);
        _server.SearchPageSize = 2;
        var found = tracker.FindRuns(exp, "peft.cell", "a/1");
        Assert.Equal(wanted.Order(), found.Select(r => r.RunId).Order());
        Assert.Equal(RunStatus.Finished, found.Single(r => r.RunId == wanted[0]).Status);
        Assert.Equal("a/1", found[0].Tags["peft.cell"]);
        var searches = _server.RequestsTo("/runs/search").ToList();
        Assert.Equal(3, searches.Count);
        Assert.Equal("tags.\"peft.cell\" = 'a/1'", (string?)JsonNode.Parse(searches[0].Body)!["filter"]);
    }

    [Fact]
    public void A_lost_create_reply_does_not_make_a_second_run_when_a_client_run_id_is_given()
    {
        using var tracker = Tracker();
        var exp = tracker.GetOrCreateExperiment("e");
        _server.LoseRepliesAfterApplying(1);
        var runId = tracker.CreateRun(exp, "r", 1, new Dictionary<string, string> { [RestTracker.ClientRunIdTag] = "local-1" });
        Assert.Equal(runId, Assert.Single(_server.Runs.Keys));
        Assert.Single(_server.RequestsTo("/runs/create"));
    }

    [Fact]
    public void Tracking_uris_other_than_http_are_refused()
    {
        Assert.Contains("'ftp://x'", Assert.Throws<ArgumentException>(() => new RestTracker("ftp://x")).Message);
    }
}
