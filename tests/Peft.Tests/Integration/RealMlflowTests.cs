using System.Globalization;
using System.Text.Json;
using Peft.Tests.Cli;
using Peft.Tests.Experiments;
using Peft.Tracking.Mlruns;

namespace Peft.Tests.Integration;

/// <summary>
/// Issue 10.1: a reduced grid logged by <c>peft run</c> to the real MLflow 3.6 — a tracking server, and an mlruns
/// folder — and read back with MLflow's own <c>MlflowClient</c> (REST API, FileStore): every run, param, tag, metric
/// history and artifact compared with the local results and with what peft's own reader sees.
/// </summary>
[Trait("Category", "Integration")]
public sealed class RealMlflowTests : TinyWorldDirectory
{
    const string Methods = """{ "zero-shot": {}, "linear-probe": { "bisectionSteps": 0, "cGrid": [1, 100] }, "tip-adapter": { "augmentViews": 2, "searchStep": [10, 5] } }""";

    public RealMlflowTests() : base("peft-real-mlflow-") { }

    string Experiment(string name, string trackingUri, string output)
    {
        var path = Temp($"{name}.json");
        File.WriteAllText(path, $$"""
            {
              "name": "{{name}}", "backbone": { "model": "model.safetensors" },
              "datasets": [ { "name": "shapes", "type": "coop_layout", "root": "world/synth_shapes" } ], "shots": [1, 2], "seeds": [1],
              "trainViews": 2, "cache": "cache", "output": "{{output}}", "tracking": { "uri": "{{trackingUri}}" },
              "methods": {{Methods}}
            }
            """);
        return path;
    }

    static IEnumerable<JsonElement> Runs(JsonElement dump) => dump.GetProperty("runs").EnumerateArray();
    static Dictionary<string, string> Strings(JsonElement e) => e.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
    static string Tag(JsonElement run, string key) => run.GetProperty("tags").TryGetProperty(key, out var v) ? v.GetString()! : "";
    static double Value(JsonElement v) => v.ValueKind == JsonValueKind.String ? double.Parse(v.GetString()!, CultureInfo.InvariantCulture) : v.GetDouble();

    /// <summary>What MLflow's client reads against the local results: one FINISHED run per result, same values.</summary>
    static void AssertMatchesResults(JsonElement dump, string output, int cells)
    {
        var runs = Runs(dump).ToDictionary(r => r.GetProperty("info").GetProperty("run_id").GetString()!);
        // One parent per invocation that logged something (a rerun that runs nothing opens none), all FINISHED.
        var parents = runs.Values.Where(r => Tag(r, "peft.role") == "parent").ToList();
        Assert.NotEmpty(parents);
        Assert.All(parents, p => Assert.Equal("FINISHED", p.GetProperty("info").GetProperty("status").GetString()));
        var parentIds = parents.Select(p => p.GetProperty("info").GetProperty("run_id").GetString()).ToHashSet();
        var cellRuns = runs.Values.Where(r => Tag(r, "peft.role") == "cell").ToList();
        Assert.Equal(cells, cellRuns.Count);
        var results = Directory.GetFiles(Path.Combine(output, "results"), "*.json", SearchOption.AllDirectories);
        Assert.Equal(cells, results.Length);
        foreach (var file in results)
        {
            var result = JsonDocument.Parse(File.ReadAllText(file)).RootElement;
            string runId = result.GetProperty("runId").GetString()!;
            Assert.True(runs.TryGetValue(runId, out var run), $"{file}: run {runId} is not in MLflow");
            var cell = result.GetProperty("cell").GetString()!;
            Assert.Equal("FINISHED", run.GetProperty("info").GetProperty("status").GetString());
            Assert.Equal(cell, Tag(run, "peft.cell"));
            Assert.Contains(Tag(run, "mlflow.parentRunId"), parentIds);
            var metrics = run.GetProperty("metrics");
            var r = result.GetProperty("result");
            foreach (var (metric, field) in new[] { ("test_top1", "testTop1"), ("val_top1", "valTop1") })
            {
                var history = metrics.GetProperty(metric).EnumerateArray().ToList();
                Assert.Equal(r.GetProperty(field).GetDouble(), Value(history[^1][2]), 9);
            }
            var @params = Strings(run.GetProperty("params"));
            foreach (var option in r.GetProperty("options").EnumerateObject())
                Assert.Equal(option.Value.GetString(), @params.GetValueOrDefault("method." + option.Name));
            Assert.True(run.GetProperty("artifacts").TryGetProperty("split.json", out _), $"{cell}: no split.json artifact");
        }
    }

    [Fact]
    public void A_grid_logged_to_a_real_mlflow_server_reads_back_through_mlflows_client()
    {
        using var server = new RealMlflowServer(Temp("server"));
        var exp = Experiment("real-server", server.Uri, "out-server");
        var (code, _, stderr) = PeftProcess.Run("run", exp);
        Assert.True(code == 0, stderr);
        var dump = RealMlflow.Dump(server.Uri, "real-server");
        AssertMatchesResults(dump, Temp("out-server"), 6);
        var parent = Assert.Single(Runs(dump), r => Tag(r, "peft.role") == "parent");
        // The parent carries the experiment file, the resolved settings, the report and the averaged accuracies,
        // logged after the cells (the parent was FINISHED by then; MLflow takes them).
        var parentArtifacts = parent.GetProperty("artifacts");
        foreach (var path in new[] { "experiment/real-server.json", "experiment/resolved.json", "report/report.md", "report/report.html", "report/results.csv", "report/plots/accuracy-average.png" })
            Assert.True(parentArtifacts.TryGetProperty(path, out _), $"parent artifact {path}");
        var average = parent.GetProperty("metrics").GetProperty("avg_test_top1/zero-shot/2_shots").EnumerateArray().Single();
        Assert.Equal(2, average[0].GetInt64());
        Assert.InRange(Value(average[2]), 0, 100);
        // MLflow's system tags fill the UI's User and Source columns; the run's user_id as MLflow's client sets it.
        Assert.All(Runs(dump), r =>
        {
            Assert.Equal(Environment.UserName, Tag(r, "mlflow.user"));
            Assert.Equal(Environment.UserName, r.GetProperty("info").GetProperty("user_id").GetString());
            Assert.Equal("LOCAL", Tag(r, "mlflow.source.type"));
            Assert.Equal(exp, Tag(r, "mlflow.source.name"));
        });
        // The search metrics of the linear probe arrive as full histories (one point per C tried, steps 0, 1).
        var probe = Runs(dump).Single(r => Tag(r, "peft.cell") == "shapes/2/1/linear-probe");
        var searchC = probe.GetProperty("metrics").GetProperty("train/search_c").EnumerateArray().OrderBy(p => p[0].GetInt64()).ToList();
        Assert.Equal(new double[] { 1, 100 }, searchC.Select(p => Value(p[2])));
        Assert.Equal(new long[] { 0, 1 }, searchC.Select(p => p[0].GetInt64()));

        // A rerun against the same server finds every cell done and logs nothing new.
        (code, _, stderr) = PeftProcess.Run("run", exp);
        Assert.True(code == 0, stderr);
        Assert.Contains("0 cells run, 6 already done", stderr);
        Assert.Equal(6, Runs(RealMlflow.Dump(server.Uri, "real-server")).Count(r => Tag(r, "peft.role") == "cell"));
    }

    [Fact]
    public void An_mlruns_folder_reads_the_same_through_mlflows_FileStore_as_through_peft()
    {
        var exp = Experiment("real-filestore", "mlruns", "out-files");
        var (code, _, stderr) = PeftProcess.Run("run", exp);
        Assert.True(code == 0, stderr);
        var dump = RealMlflow.Dump(new Uri(Temp("mlruns")).AbsoluteUri, "real-filestore");
        AssertMatchesResults(dump, Temp("out-files"), 6);

        var reader = new MlrunsReader(Temp("mlruns"));
        var experiment = reader.FindExperiment("real-filestore")!;
        Assert.Equal(experiment.ExperimentId, dump.GetProperty("experiment").GetProperty("experiment_id").GetString());
        var ours = reader.Runs(experiment.ExperimentId, includeDeleted: true).OrderBy(r => r.RunId, StringComparer.Ordinal).ToList();
        var theirs = Runs(dump).ToList();
        Assert.Equal(ours.Select(r => r.RunId), theirs.Select(r => r.GetProperty("info").GetProperty("run_id").GetString()));
        foreach (var (run, mlflow) in ours.Zip(theirs))
        {
            var info = mlflow.GetProperty("info");
            Assert.Equal(run.RunName, info.GetProperty("run_name").GetString());
            Assert.Equal(run.Status.ToString().ToUpperInvariant(), info.GetProperty("status").GetString());
            Assert.Equal(run.StartTime, info.GetProperty("start_time").GetInt64());
            Assert.Equal(run.EndTime, info.GetProperty("end_time").ValueKind == JsonValueKind.Null ? null : info.GetProperty("end_time").GetInt64());
            Assert.Equal(run.LifecycleStage, info.GetProperty("lifecycle_stage").GetString());
            Assert.Equal(run.UserId, info.GetProperty("user_id").GetString());
            Assert.Equal(run.Params.OrderBy(p => p.Key), Strings(mlflow.GetProperty("params")).OrderBy(p => p.Key));
            Assert.Equal(run.Tags.OrderBy(p => p.Key), Strings(mlflow.GetProperty("tags")).OrderBy(p => p.Key));
            var metrics = mlflow.GetProperty("metrics");
            Assert.Equal(run.MetricHistory.Keys.Order(StringComparer.Ordinal), metrics.EnumerateObject().Select(m => m.Name).Order(StringComparer.Ordinal));
            foreach (var (key, history) in run.MetricHistory)
            {
                var points = metrics.GetProperty(key).EnumerateArray().Select(p => (p[0].GetInt64(), p[1].GetInt64(), Value(p[2])))
                    .OrderBy(p => p).ToList();
                Assert.Equal(history.Select(p => (p.Step, p.TimestampMs, p.Value)).OrderBy(p => p).ToList(), points);
            }
            var files = run.ArtifactDirectory is { } dir && Directory.Exists(dir)
                ? Directory.GetFiles(dir, "*", SearchOption.AllDirectories).ToDictionary(f => Path.GetRelativePath(dir, f), f => new FileInfo(f).Length)
                : [];
            var listed = mlflow.GetProperty("artifacts").EnumerateObject().ToDictionary(a => a.Name, a => a.Value.GetInt64());
            Assert.Equal(files.OrderBy(f => f.Key), listed.OrderBy(f => f.Key));
        }
    }

    /// <summary>
    /// Issue 10.2: names with characters PyYAML refuses unquoted (U+FFFE, C1 controls) or folds inside single quotes
    /// (U+0085, U+2028, U+2029) once made MLflow's FileStore fail to list every experiment of the folder, or changed
    /// the name. They must round-trip through MLflow's own reader, and the other experiments must stay listed.
    /// </summary>
    [Fact]
    public void Names_PyYAML_refuses_or_folds_round_trip_through_mlflows_FileStore()
    {
        string name = "odd \u2028 \u2029 \u0085 \uFFFE \u0090 'q' \"d\" a: b # x \t tab 😀";
        string runName = "run \u2028 \uFFFF \u0085 é";
        using (var tracker = new FileStoreTracker(Temp("odd-mlruns")))
        {
            tracker.GetOrCreateExperiment("plain");
            var experimentId = tracker.GetOrCreateExperiment(name);
            var runId = tracker.CreateRun(experimentId, runName, 1_700_000_000_000, new Dictionary<string, string> { ["peft.role"] = "cell" });
            tracker.LogBatch(runId, [new("m", 1.5, 1_700_000_000_001)], new Dictionary<string, string> { ["p"] = "v \u2028 w" },
                new Dictionary<string, string>());
            tracker.EndRun(runId, Peft.Core.Tracking.RunStatus.Finished, 1_700_000_000_002);
        }
        var uri = new Uri(Temp("odd-mlruns")).AbsoluteUri;
        var dump = RealMlflow.Dump(uri, name);
        Assert.Equal(name, dump.GetProperty("experiment").GetProperty("name").GetString());
        var run = Assert.Single(Runs(dump));
        Assert.Equal(runName, run.GetProperty("info").GetProperty("run_name").GetString());
        Assert.Equal("FINISHED", run.GetProperty("info").GetProperty("status").GetString());
        Assert.Equal("v \u2028 w", Strings(run.GetProperty("params"))["p"]);
        Assert.Empty(Runs(RealMlflow.Dump(uri, "plain"))); // the other experiment is still listed and readable
        var ours = new MlrunsReader(Temp("odd-mlruns"));
        Assert.Equal(runName, Assert.Single(ours.Runs(ours.FindExperiment(name)!.ExperimentId)).RunName);
    }

    /// <summary>Issue 10.2: values at MLflow's limits in Python characters reach the real server whole; longer ones are cut there.</summary>
    [Fact]
    public void Values_at_mlflows_limit_in_python_characters_reach_the_real_server_whole()
    {
        using var server = new RealMlflowServer(Temp("server-limits"));
        using var tracker = new Peft.Tracking.Rest.RestTracker(server.Uri);
        var experimentId = tracker.GetOrCreateExperiment("limits");
        string emoji = "😀";
        string param = new string('a', 5998) + emoji + emoji;      // 6000 characters, 6002 UTF-16 units
        string tag = new string('b', 7999) + emoji + emoji;        // 8001 characters: cut to 8000
        var runId = tracker.CreateRun(experimentId, "limits " + emoji, 1_700_000_000_000, new Dictionary<string, string>());
        tracker.LogBatch(runId, [], new Dictionary<string, string> { ["p"] = param }, new Dictionary<string, string> { ["t"] = tag });
        tracker.EndRun(runId, Peft.Core.Tracking.RunStatus.Finished, 1_700_000_000_001);
        // Artifact names with spaces, non-ASCII and '+' reach the real server's proxy unchanged.
        tracker.LogArtifact(runId, "per class/accuracy é+1 😀.json", new byte[] { 1, 2, 3 });
        var run = Assert.Single(Runs(RealMlflow.Dump(server.Uri, "limits")));
        Assert.Equal(3, run.GetProperty("artifacts").GetProperty("per class/accuracy é+1 😀.json").GetInt64());
        Assert.Equal(param, Strings(run.GetProperty("params"))["p"]);
        Assert.Equal(new string('b', 7999) + emoji, Strings(run.GetProperty("tags"))["t"]);
        Assert.Equal("limits " + emoji, run.GetProperty("info").GetProperty("run_name").GetString());
    }

    /// <summary>
    /// Issue 10.1/10.2: the server is down during the run (records wait in the outbox, results hold local ids), started
    /// later; <c>peft tracking sync</c> delivers everything, and the next run maps every result to the server's run ids
    /// without logging anything twice.
    /// </summary>
    [Fact]
    public void The_outbox_delivers_a_run_made_while_the_server_was_down_and_results_get_the_servers_ids()
    {
        int port = RealMlflow.FreePort();
        var uri = $"http://127.0.0.1:{port}";
        var exp = Experiment("outbox", uri, "out-outbox");
        var env = new Dictionary<string, string?> { ["PEFT_HOME"] = Temp("home"), ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0" };
        var saved = env.Keys.ToDictionary(k => k, Environment.GetEnvironmentVariable);
        try
        {
            foreach (var (k, v) in env) Environment.SetEnvironmentVariable(k, v);
            var (code, _, stderr) = PeftProcess.Run("run", exp);
            Assert.True(code == 0, stderr);
            var results = Directory.GetFiles(Temp("out-outbox/results"), "*.json", SearchOption.AllDirectories);
            Assert.Equal(6, results.Length);
            Assert.All(results, f => Assert.StartsWith("local-", JsonDocument.Parse(File.ReadAllText(f)).RootElement.GetProperty("runId").GetString()));

            using var server = new RealMlflowServer(Temp("server-outbox"), port);
            string stdout;
            (code, stdout, stderr) = PeftProcess.Run("tracking", "sync");
            Assert.True(code == 0, stderr);
            Assert.Contains("1 journals complete and removed", stdout);

            (code, _, stderr) = PeftProcess.Run("run", exp);
            Assert.True(code == 0, stderr);
            Assert.Contains("0 cells run, 6 already done", stderr);
            Assert.Contains("6 results now hold the run ids the MLflow server gave them", stderr);
            AssertMatchesResults(RealMlflow.Dump(uri, "outbox"), Temp("out-outbox"), 6);
            Assert.All(Directory.GetFiles(Temp("out-outbox/results"), "*.json", SearchOption.AllDirectories),
                f => Assert.DoesNotContain("local-", JsonDocument.Parse(File.ReadAllText(f)).RootElement.GetProperty("experimentId").GetString()));
        }
        finally
        {
            foreach (var (k, v) in saved) Environment.SetEnvironmentVariable(k, v);
        }
    }

    /// <summary>Issue 10.1: two shards of one experiment logging to the real server at once: every cell once.</summary>
    [Fact]
    public void Two_shards_logging_to_the_real_server_at_once_run_every_cell_once()
    {
        using var server = new RealMlflowServer(Temp("server-shards"));
        var exp = Experiment("shards", server.Uri, "out-shards");
        var first = Task.Run(() => PeftProcess.Run("run", exp, "--shard", "0/2"));
        var second = Task.Run(() => PeftProcess.Run("run", exp, "--shard", "1/2"));
        foreach (var (code, _, stderr) in new[] { first.Result, second.Result }) Assert.True(code == 0, stderr);
        var dump = RealMlflow.Dump(server.Uri, "shards");
        Assert.Equal(2, Runs(dump).Count(r => Tag(r, "peft.role") == "parent"));
        var cells = Runs(dump).Where(r => Tag(r, "peft.role") == "cell").ToList();
        Assert.Equal(6, cells.Count);
        Assert.Equal(6, cells.Select(r => Tag(r, "peft.cell")).Distinct().Count());
        Assert.All(cells, r => Assert.Equal("FINISHED", r.GetProperty("info").GetProperty("status").GetString()));
        // Each cell's run is a child of the parent of the shard that ran it.
        var parents = Runs(dump).Where(r => Tag(r, "peft.role") == "parent")
            .ToDictionary(r => r.GetProperty("info").GetProperty("run_id").GetString()!, r => Tag(r, "peft.shard"));
        Assert.Equal(new[] { "0/2", "1/2" }, parents.Values.Order());
        Assert.All(cells, r => Assert.Equal(parents[Tag(r, "mlflow.parentRunId")], Tag(r, "peft.shard")));
    }
}
