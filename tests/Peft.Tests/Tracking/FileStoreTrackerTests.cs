using Peft.Core.Tracking;
using Peft.Tracking.Mlruns;

namespace Peft.Tests.Tracking;

/// <summary>The mlruns writer, file by file against MLflow's FileStore layout (reference/mlflow.md §2).</summary>
public sealed class FileStoreTrackerTests() : TempDirectory("peft-mlruns-")
{
    private string Root => Temp("mlruns");

    private static Dictionary<string, string> NoTags => new();

    [Fact]
    public void New_folder_gets_the_default_experiment_and_trash()
    {
        using var tracker = new FileStoreTracker(Root);
        Assert.True(Directory.Exists(Path.Combine(Root, ".trash")));
        var meta = File.ReadAllText(Path.Combine(Root, "0", "meta.yaml"));
        var lines = meta.TrimEnd('\n').Split('\n');
        Assert.Equal(["artifact_location", "creation_time", "experiment_id", "last_update_time", "lifecycle_stage", "name"],
            lines.Select(l => l[..l.IndexOf(':')]).ToArray());
        Assert.Contains($"artifact_location: file://{Path.Combine(Root, "0")}\n", meta);
        Assert.Contains("experiment_id: '0'\n", meta);
        Assert.Contains("lifecycle_stage: active\n", meta);
        Assert.Contains("name: Default\n", meta);
        Assert.Equal("file://" + Root, tracker.Uri);
    }

    [Fact]
    public void Experiment_meta_has_the_filestore_keys_and_the_same_name_gives_the_same_id()
    {
        using var tracker = new FileStoreTracker("file://" + Root);
        var id = tracker.GetOrCreateExperiment("few-shot grid");
        Assert.Matches("^[1-9][0-9]{17}$", id);
        Assert.Equal(id, tracker.GetOrCreateExperiment("few-shot grid"));
        var meta = MetaYamlLines(Path.Combine(Root, id, "meta.yaml"));
        Assert.Equal(["artifact_location", "creation_time", "experiment_id", "last_update_time", "lifecycle_stage", "name"], meta.Keys.ToArray());
        Assert.Equal("file://" + Path.Combine(Root, id), meta["artifact_location"]);
        Assert.Equal("'few-shot grid'", meta["name"]);
        Assert.Matches("^[0-9]{13}$", meta["creation_time"]);
        var read = new MlrunsReader(Root).FindExperiment("few-shot grid")!;
        Assert.Equal(id, read.ExperimentId);
        Assert.Equal("active", read.LifecycleStage);
    }

    [Fact]
    public void Run_meta_tags_and_artifact_folder_follow_the_filestore_layout()
    {
        using var tracker = new FileStoreTracker(Root);
        var exp = tracker.GetOrCreateExperiment("e");
        var runId = tracker.CreateRun(exp, "coop · eurosat", 1_700_000_000_123, new Dictionary<string, string> { ["mlflow.parentRunId"] = "abc" });
        Assert.Matches("^[0-9a-f]{32}$", runId);
        var runDir = Path.Combine(Root, exp, runId);
        var meta = MetaYamlLines(Path.Combine(runDir, "meta.yaml"));
        Assert.Equal(["artifact_uri", "deleted_time", "end_time", "entry_point_name", "experiment_id", "lifecycle_stage", "run_id",
            "run_name", "run_uuid", "source_name", "source_type", "source_version", "start_time", "status", "tags", "user_id"], meta.Keys.ToArray());
        Assert.Equal($"file://{runDir}/artifacts", meta["artifact_uri"]);
        Assert.Equal("null", meta["end_time"]);
        Assert.Equal("null", meta["deleted_time"]);
        Assert.Equal("''", meta["entry_point_name"]);
        Assert.Equal($"'{exp}'", meta["experiment_id"]); // a string, quoted because it looks like a number
        Assert.Equal("active", meta["lifecycle_stage"]);
        Assert.Equal(runId, meta["run_id"].Trim('\''));
        Assert.Equal(runId, meta["run_uuid"].Trim('\''));
        Assert.Equal("'coop · eurosat'", meta["run_name"]);
        Assert.Equal("4", meta["source_type"]);
        Assert.Equal("1700000000123", meta["start_time"]);
        Assert.Equal("1", meta["status"]);
        Assert.Equal("[]", meta["tags"]);
        Assert.Equal("abc", File.ReadAllText(Path.Combine(runDir, "tags", "mlflow.parentRunId")));
        Assert.Equal("coop · eurosat", File.ReadAllText(Path.Combine(runDir, "tags", "mlflow.runName")));
        Assert.True(Directory.Exists(Path.Combine(runDir, "artifacts")));
        Assert.True(Directory.Exists(Path.Combine(runDir, "params")));
        Assert.True(Directory.Exists(Path.Combine(runDir, "metrics")));
    }

    [Fact]
    public void Metrics_are_lines_of_timestamp_value_step_and_params_and_tags_are_raw_files()
    {
        using var tracker = new FileStoreTracker(Root);
        var runId = tracker.CreateRun(tracker.GetOrCreateExperiment("e"), "r", 1, NoTags);
        tracker.LogBatch(runId,
            [new("train/loss", 0.5, 1000, 0), new("train/loss", 1e-5, 1001, 1), new("train/loss", 100, 1002, 2),
             new("train/loss", double.NaN, 1003, 3), new("train/loss", double.PositiveInfinity, 1004, 4), new("acc", 1e16, 5, 0)],
            new Dictionary<string, string> { ["method.lr"] = "0.002", ["dataset"] = "eurosat" },
            new Dictionary<string, string> { ["peft.cell"] = "eurosat/1/1/coop" });
        tracker.LogBatch(runId, [new("train/loss", -0.25, 1005, 5)], new Dictionary<string, string>(), NoTags);
        var runDir = new MlrunsReader(Root).FindRun(runId)!.Directory;
        Assert.Equal("1000 0.5 0\n1001 1e-05 1\n1002 100.0 2\n1003 nan 3\n1004 inf 4\n1005 -0.25 5\n",
            File.ReadAllText(Path.Combine(runDir, "metrics", "train", "loss")));
        Assert.Equal("5 1e+16 0\n", File.ReadAllText(Path.Combine(runDir, "metrics", "acc")));
        Assert.Equal("0.002", File.ReadAllText(Path.Combine(runDir, "params", "method.lr")));
        Assert.Equal("eurosat/1/1/coop", File.ReadAllText(Path.Combine(runDir, "tags", "peft.cell")));
        Assert.Empty(Directory.GetFiles(runDir, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public void Params_are_write_once_and_a_refused_batch_writes_nothing()
    {
        using var tracker = new FileStoreTracker(Root);
        var runId = tracker.CreateRun(tracker.GetOrCreateExperiment("e"), "r", 1, NoTags);
        tracker.LogBatch(runId, [], new Dictionary<string, string> { ["lr"] = "0.1" }, NoTags);
        tracker.LogBatch(runId, [], new Dictionary<string, string> { ["lr"] = "0.1" }, NoTags); // same value: fine
        var e = Assert.Throws<TrackingException>(() =>
            tracker.LogBatch(runId, [new("loss", 1, 1, 0)], new Dictionary<string, string> { ["lr"] = "0.2" }, NoTags));
        Assert.Contains("'lr'", e.Message);
        Assert.Contains("0.1", e.Message);
        Assert.False(e.Transient);
        var run = new MlrunsReader(Root).FindRun(runId)!;
        Assert.Empty(run.MetricHistory);
        Assert.Equal("0.1", run.Params["lr"]);
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("a//b")]
    [InlineData("/abs")]
    [InlineData("trailing/")]
    [InlineData("./x")]
    [InlineData("bad*key")]
    [InlineData("")]
    public void Keys_mlflow_refuses_fail_with_the_key_in_the_message(string key)
    {
        using var tracker = new FileStoreTracker(Root);
        var runId = tracker.CreateRun(tracker.GetOrCreateExperiment("e"), "r", 1, NoTags);
        var e = Assert.Throws<TrackingException>(() => tracker.LogBatch(runId, [new(key, 1, 1, 0)], new Dictionary<string, string>(), NoTags));
        Assert.Contains($"'{key}'", e.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(Root, tracker.GetOrCreateExperiment("e"), runId, "metrics")));
    }

    [Fact]
    public void Long_keys_are_refused_and_long_values_truncated_to_mlflow_limits()
    {
        using var tracker = new FileStoreTracker(Root);
        var runId = tracker.CreateRun(tracker.GetOrCreateExperiment("e"), "r", 1, NoTags);
        var longKey = new string('k', 251);
        Assert.Contains("251", Assert.Throws<TrackingException>(() =>
            tracker.LogBatch(runId, [], new Dictionary<string, string> { [longKey] = "v" }, NoTags)).Message);
        tracker.LogBatch(runId, [], new Dictionary<string, string> { ["p"] = new string('x', 7000) },
            new Dictionary<string, string> { ["t"] = new string('y', 9000) });
        var run = new MlrunsReader(Root).FindRun(runId)!;
        Assert.Equal(6000, run.Params["p"].Length);
        Assert.Equal(8000, run.Tags["t"].Length);
    }

    [Fact]
    public void End_run_sets_status_and_end_time_and_reader_reads_everything_back()
    {
        using var tracker = new FileStoreTracker(Root);
        var exp = tracker.GetOrCreateExperiment("e");
        var runId = tracker.CreateRun(exp, "r", 10, new Dictionary<string, string> { ["peft.role"] = "cell" });
        tracker.LogBatch(runId,
            [new("acc", 0.7, 100, 1), new("acc", 0.9, 50, 2), new("acc", 0.1, 60, 2), new("acc", 0.3, 60, 2), new("acc", 0.99, 999, 0)],
            new Dictionary<string, string> { ["seed"] = "1" }, NoTags);
        tracker.LogArtifact(runId, "weights/adapter.bin", new byte[] { 1, 2, 3 });
        tracker.EndRun(runId, RunStatus.Finished, 20);

        var meta = MetaYamlLines(Path.Combine(Root, exp, runId, "meta.yaml"));
        Assert.Equal("3", meta["status"]);
        Assert.Equal("20", meta["end_time"]);
        var run = Assert.Single(new MlrunsReader(Root).Runs(exp));
        Assert.Equal((runId, "r", RunStatus.Finished, 10L, 20L), (run.RunId, run.RunName, run.Status, run.StartTime, run.EndTime));
        Assert.Equal(new MetricPoint("acc", 0.3, 60, 2), run.LatestMetrics["acc"]); // max by (step, timestamp, value)
        Assert.Equal(5, run.MetricHistory["acc"].Count);
        Assert.Equal("1", run.Params["seed"]);
        Assert.Equal("cell", run.Tags["peft.role"]);
        Assert.Equal([1, 2, 3], File.ReadAllBytes(Path.Combine(run.ArtifactDirectory!, "weights", "adapter.bin")));
        Assert.Equal(Path.Combine(Root, exp, runId, "artifacts"), run.ArtifactDirectory);
        var found = Assert.Single(tracker.FindRuns(exp, "peft.role", "cell"));
        Assert.Equal((runId, RunStatus.Finished), (found.RunId, found.Status));
        Assert.Empty(tracker.FindRuns(exp, "peft.role", "parent"));
    }

    [Fact]
    public void A_deleted_experiment_of_that_name_is_a_clear_error()
    {
        using var tracker = new FileStoreTracker(Root);
        var id = tracker.GetOrCreateExperiment("gone");
        // What `mlflow experiments delete` does in a FileStore: stage "deleted", folder moved to .trash.
        var metaPath = Path.Combine(Root, id, "meta.yaml");
        File.WriteAllText(metaPath, File.ReadAllText(metaPath).Replace("lifecycle_stage: active", "lifecycle_stage: deleted"));
        Directory.Move(Path.Combine(Root, id), Path.Combine(Root, ".trash", id));
        var e = Assert.Throws<TrackingException>(() => tracker.GetOrCreateExperiment("gone"));
        Assert.Contains("'gone'", e.Message);
        Assert.Contains("mlflow gc", e.Message);
    }

    [Fact]
    public void Bad_artifact_paths_unknown_runs_and_unknown_experiments_are_named()
    {
        using var tracker = new FileStoreTracker(Root);
        var runId = tracker.CreateRun(tracker.GetOrCreateExperiment("e"), "r", 1, NoTags);
        Assert.Contains("'../x'", Assert.Throws<TrackingException>(() => tracker.LogArtifact(runId, "../x", new byte[1])).Message);
        Assert.Contains("'nope'", Assert.Throws<TrackingException>(() => tracker.EndRun("nope", RunStatus.Failed, 1)).Message);
        Assert.Contains("'123'", Assert.Throws<TrackingException>(() => tracker.CreateRun("123", "r", 1, NoTags)).Message);
        Assert.Contains("differ", Assert.Throws<TrackingException>(() =>
            tracker.CreateRun(tracker.GetOrCreateExperiment("e"), "a", 1, new Dictionary<string, string> { ["mlflow.runName"] = "b" })).Message);
    }

    [Fact]
    public void Concurrent_creators_of_one_new_experiment_make_exactly_one()
    {
        var ids = new string[8];
        using var start = new Barrier(ids.Length);
        var threads = Enumerable.Range(0, ids.Length).Select(i => new Thread(() =>
        {
            using var tracker = new FileStoreTracker(Root); // separate instances: only the file system is shared
            start.SignalAndWait();
            ids[i] = tracker.GetOrCreateExperiment("race");
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Assert.Single(ids.Distinct());
        Assert.Single(new MlrunsReader(Root).Experiments(), e => e.Name == "race");
        Assert.Equal(2, new MlrunsReader(Root).Experiments().Count); // plus Default
    }

    [Fact]
    public void Concurrent_writers_of_different_runs_in_one_experiment_lose_nothing()
    {
        const int writers = 4, points = 50;
        var runIds = new string[writers];
        var threads = Enumerable.Range(0, writers).Select(i => new Thread(() =>
        {
            using var tracker = new FileStoreTracker(Root);
            var exp = tracker.GetOrCreateExperiment("shared");
            runIds[i] = tracker.CreateRun(exp, $"w{i}", 1, new Dictionary<string, string> { ["peft.shard"] = $"{i}/{writers}" });
            for (int s = 0; s < points; s++)
                tracker.LogBatch(runIds[i], [new("loss", s, 1000 + s, s)], new Dictionary<string, string> { [$"p{s % 5}"] = "v" }, NoTags);
            tracker.EndRun(runIds[i], RunStatus.Finished, 2);
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        var reader = new MlrunsReader(Root);
        var runs = reader.Runs(reader.FindExperiment("shared")!.ExperimentId);
        Assert.Equal(runIds.Order(), runs.Select(r => r.RunId).Order());
        Assert.All(runs, r => Assert.Equal(points, r.MetricHistory["loss"].Count));
        Assert.All(runs, r => Assert.Equal(RunStatus.Finished, r.Status));
    }

    [Fact]
    public void Reader_skips_runs_being_created_and_unfinished_metric_lines()
    {
        using var tracker = new FileStoreTracker(Root);
        var exp = tracker.GetOrCreateExperiment("e");
        var runId = tracker.CreateRun(exp, "r", 1, NoTags);
        File.WriteAllText(Path.Combine(Root, exp, runId, "metrics", "loss"), "1 0.5 0\n2 0.2");
        Directory.CreateDirectory(Path.Combine(Root, exp, "0123456789abcdef0123456789abcdef"));
        File.WriteAllText(Path.Combine(Root, exp, "0123456789abcdef0123456789abcdef", "meta.yaml"), "");
        var run = Assert.Single(new MlrunsReader(Root).Runs(exp));
        Assert.Equal([new MetricPoint("loss", 0.5, 1, 0)], run.MetricHistory["loss"]);
    }

    [Fact]
    public void Reader_reads_pyyaml_style_meta_written_by_mlflow()
    {
        var dir = Path.Combine(Root, "5");
        Directory.CreateDirectory(Path.Combine(dir, "a1"));
        File.WriteAllText(Path.Combine(dir, "meta.yaml"),
            "artifact_location: file:///x/mlruns/5\ncreation_time: 1\nexperiment_id: '5'\nlast_update_time: 2\nlifecycle_stage: active\nname: 'it''s mine'\n");
        File.WriteAllText(Path.Combine(dir, "a1", "meta.yaml"),
            "artifact_uri: mlflow-artifacts:/5/a1/artifacts\nend_time: null\nentry_point_name: ''\nexperiment_id: '5'\n" +
            "lifecycle_stage: active\nrun_id: a1\nrun_name: ''\nrun_uuid: a1\nsource_name: ''\nsource_type: 4\nsource_version: ''\n" +
            "start_time: 7\nstatus: 4\ntags: []\nuser_id: someone\n");
        Directory.CreateDirectory(Path.Combine(dir, "a1", "tags"));
        File.WriteAllText(Path.Combine(dir, "a1", "tags", "mlflow.runName"), "wistful-ant-659");
        var reader = new MlrunsReader("file:" + Root);
        Assert.Equal("it's mine", reader.GetExperiment("5").Name);
        var run = Assert.Single(reader.Runs("5"));
        Assert.Equal(("wistful-ant-659", RunStatus.Failed, "someone"), (run.RunName, run.Status, run.UserId));
        Assert.Null(run.ArtifactDirectory);
    }

    private static Dictionary<string, string> MetaYamlLines(string path) =>
        File.ReadAllText(path).TrimEnd('\n').Split('\n').ToDictionary(l => l[..l.IndexOf(':')], l => l[(l.IndexOf(':') + 2)..]);
}
