using Peft.Core.Tracking;
using Peft.Tests.Cli;
using Peft.Tracking;
using Peft.Tracking.Mlruns;
using Peft.Tracking.Outbox;
using Peft.Tracking.Rest;

namespace Peft.Tests.Tracking;

/// <summary>The outbox: an unreachable server loses nothing, redelivery sends nothing twice, journals stay apart.</summary>
public sealed class OutboxTrackerTests : TempDirectory, IDisposable
{
    private readonly FakeMlflowServer _server = new();

    public OutboxTrackerTests() : base("peft-outbox-") { }

    private string Outbox => Temp("outbox");

    private RestTracker Rest() => new(_server.Uri, new RestTrackerOptions { MaxRetries = 0, Sleep = _ => { } });

    private OutboxTracker Tracker() => new(Rest(), Outbox);

    private OutboxSyncResult Sync() => OutboxSync.Run(Outbox, _ => Rest());

    void IDisposable.Dispose()
    {
        _server.Dispose();
        Dispose();
    }

    // One cell as the runner logs it.
    private static string LogCell(IExperimentTracker tracker, string cell)
    {
        var exp = tracker.GetOrCreateExperiment("grid");
        var run = tracker.CreateRun(exp, cell, 1000, new Dictionary<string, string> { ["peft.cell"] = cell });
        tracker.LogBatch(run, [new("train/loss", 0.5, 1001, 0), new("train/loss", double.NaN, 1002, 1)],
            new Dictionary<string, string> { ["seed"] = "1" }, new Dictionary<string, string> { ["peft.role"] = "cell" });
        tracker.LogArtifact(run, "split.json", "{}"u8.ToArray());
        tracker.EndRun(run, RunStatus.Finished, 2000);
        return run;
    }

    private void AssertDeliveredOnce(string cell)
    {
        var run = Assert.Single(_server.Runs.Values, r => r.Tags.GetValueOrDefault("peft.cell") == cell);
        Assert.Equal(("FINISHED", 2000L, "1", "cell"), (run.Status, run.EndTime!.Value, run.Params["seed"], run.Tags["peft.role"]));
        Assert.Equal(2, run.Metrics.Count);
        Assert.Equal("NaN", run.Metrics[1].value.ToString());
        Assert.Single(_server.Artifacts.Keys, k => k.EndsWith($"{run.Id}/artifacts/split.json", StringComparison.Ordinal));
        Assert.StartsWith("local-", run.Tags[RestTracker.ClientRunIdTag]);
    }

    [Fact]
    public void With_the_server_up_ids_are_the_servers_and_nothing_stays_in_the_outbox()
    {
        string runId;
        using (var tracker = Tracker())
        {
            runId = LogCell(tracker, "a");
            Assert.Equal(0, tracker.Pending);
            Assert.Equal(_server.Runs.Keys.Single(), runId);
        }
        AssertDeliveredOnce("a");
        Assert.Empty(Directory.EnumerateFileSystemEntries(Outbox));
    }

    [Fact]
    public void A_server_down_during_the_run_gets_everything_later_exactly_once()
    {
        _server.Stop();
        string journal;
        using (var tracker = Tracker())
        {
            var runId = LogCell(tracker, "a");
            Assert.StartsWith("local-", runId);
            Assert.Equal(5, tracker.Pending); // experiment, run, batch, artifact, end
            Assert.Empty(tracker.FindRuns(tracker.GetOrCreateExperiment("grid"), "peft.cell", "a"));
            journal = tracker.JournalPath;
        }
        Assert.True(File.Exists(journal));
        _server.Start();
        var result = Sync();
        Assert.Equal((1, 6, 0, 0), (result.JournalsDelivered, result.EntriesSent, result.JournalsInUse, result.JournalsLeft));
        AssertDeliveredOnce("a");
        Assert.Single(_server.Experiments.Values, e => e.Name == "grid");
        Assert.Empty(Directory.EnumerateFileSystemEntries(Outbox));
        Assert.Equal((0, 0), (Sync().EntriesSent, Sync().JournalsLeft));
    }

    [Fact]
    public void The_server_coming_back_mid_run_maps_local_ids_to_server_ids()
    {
        _server.Stop();
        using var tracker = new OutboxTracker(Rest(), Outbox) { RetryInterval = TimeSpan.Zero };
        var exp = tracker.GetOrCreateExperiment("grid");
        var run = tracker.CreateRun(exp, "a", 1000, new Dictionary<string, string>());
        Assert.StartsWith("local-", run);
        _server.Start();
        tracker.LogBatch(run, [new("acc", 1, 1)], new Dictionary<string, string>(), new Dictionary<string, string>());
        Assert.Equal(0, tracker.Pending);
        Assert.Single(Assert.Single(_server.Runs.Values).Metrics);
        var later = tracker.CreateRun(exp, "b", 1000, new Dictionary<string, string>());
        Assert.Contains(later, _server.Runs.Keys);
    }

    [Fact]
    public void A_crash_after_the_server_applied_a_create_does_not_make_a_second_run()
    {
        var tracker = Tracker();
        var exp = tracker.GetOrCreateExperiment("grid");
        _server.LoseRepliesAfterApplying(1); // runs/create is applied, its reply lost
        var run = tracker.CreateRun(exp, "a", 1000, new Dictionary<string, string> { ["peft.cell"] = "a" });
        Assert.StartsWith("local-", run);
        tracker.LogBatch(run, [new("acc", 1, 1)], new Dictionary<string, string>(), new Dictionary<string, string>());
        tracker.Abandon(); // the process dies: no last delivery, nothing removed
        Assert.Single(_server.Runs);

        var result = Sync();
        Assert.Equal((1, 0), (result.JournalsDelivered, result.JournalsLeft));
        var only = Assert.Single(_server.Runs.Values);
        Assert.Single(only.Metrics);
    }

    [Fact]
    public void Progress_survives_a_crash_and_confirmed_records_are_not_sent_again()
    {
        var tracker = Tracker();
        LogCell(tracker, "a");          // delivered while the server is up
        _server.Stop();
        var exp = tracker.GetOrCreateExperiment("grid");
        var run = tracker.CreateRun(exp, "b", 1000, new Dictionary<string, string> { ["peft.cell"] = "b" });
        tracker.LogBatch(run, [new("acc", 1, 1)], new Dictionary<string, string>(), new Dictionary<string, string>());
        tracker.Abandon();
        _server.Start();
        var before = _server.Requests.Count;
        var result = Sync();
        Assert.Equal(3, result.EntriesSent);
        AssertDeliveredOnce("a");
        Assert.Single(_server.Runs.Values, r => r.Name == "b");
        Assert.DoesNotContain(_server.Requests.Skip(before), r => r.Path.EndsWith("/runs/update") || r.Method == "PUT");
    }

    [Fact]
    public void Journals_of_concurrent_processes_stay_apart_and_two_syncs_never_double_send()
    {
        _server.Stop();
        var threads = Enumerable.Range(0, 3).Select(i => new Thread(() =>
        {
            using var tracker = Tracker();
            for (int c = 0; c < 3; c++) LogCell(tracker, $"shard{i}-cell{c}");
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Assert.Equal(3, Directory.GetFiles(Outbox, "*.journal").Length);
        _server.Start();
        var results = new OutboxSyncResult[2];
        var syncs = Enumerable.Range(0, 2).Select(i => new Thread(() => results[i] = Sync())).ToList();
        syncs.ForEach(t => t.Start());
        syncs.ForEach(t => t.Join());
        Assert.Equal(3, results.Sum(r => r.JournalsDelivered));
        Assert.Equal(0, results.Sum(r => r.JournalsLeft));
        for (int i = 0; i < 3; i++)
            for (int c = 0; c < 3; c++) AssertDeliveredOnce($"shard{i}-cell{c}");
        Assert.Single(_server.Experiments.Values, e => e.Name == "grid");
    }

    [Fact]
    public void A_journal_held_by_a_running_process_is_left_alone()
    {
        _server.Stop();
        using var running = Tracker();
        LogCell(running, "a");
        _server.Start();
        var result = Sync();
        Assert.Equal((0, 1, 0), (result.JournalsDelivered, result.JournalsInUse, result.EntriesSent));
        Assert.Empty(_server.Runs);
    }

    [Fact]
    public void A_refusal_stops_the_journal_with_the_servers_error_and_keeps_it()
    {
        _server.Stop();
        using (var tracker = Tracker())
        {
            var run = tracker.CreateRun(tracker.GetOrCreateExperiment("grid"), "a", 1, new Dictionary<string, string>());
            tracker.LogBatch(run, [], new Dictionary<string, string> { ["lr"] = "0.1" }, new Dictionary<string, string>());
            tracker.LogBatch(run, [], new Dictionary<string, string> { ["lr"] = "0.2" }, new Dictionary<string, string>());
            tracker.EndRun(run, RunStatus.Finished, 2);
        }
        _server.Start();
        var result = Sync();
        var error = Assert.Single(result.Errors);
        Assert.Contains("key='lr'", error);
        Assert.Contains("2 records left", error);
        Assert.Single(Directory.GetFiles(Outbox, "*.journal"));
        Assert.Equal("RUNNING", Assert.Single(_server.Runs.Values).Status);
    }

    [Fact]
    public void Bad_keys_are_refused_before_they_reach_the_journal()
    {
        using var tracker = Tracker();
        var run = tracker.CreateRun(tracker.GetOrCreateExperiment("grid"), "a", 1, new Dictionary<string, string>());
        Assert.Contains("'a//b'", Assert.Throws<TrackingException>(() =>
            tracker.LogBatch(run, [new("a//b", 1, 1)], new Dictionary<string, string>(), new Dictionary<string, string>())).Message);
        Assert.Equal(0, tracker.Pending);
    }

    [Fact]
    public void Sync_command_sends_what_is_left_and_exits_1_with_one_error_line_on_a_refusal()
    {
        _server.Stop();
        using (var tracker = Tracker()) LogCell(tracker, "a");
        _server.Start();
        var (code, stdout, stderr) = PeftProcess.Run("tracking", "sync", "--outbox", Outbox, "--tracking-uri", _server.Uri);
        Assert.True(code == 0, stderr);
        Assert.Contains("delivered 5 records; 1 journals complete and removed", stdout);
        AssertDeliveredOnce("a");

        _server.Stop();
        using (var tracker = Tracker())
        {
            var run = tracker.CreateRun(tracker.GetOrCreateExperiment("grid"), "b", 1, new Dictionary<string, string>());
            tracker.LogBatch(run, [], new Dictionary<string, string> { ["lr"] = "0.1" }, new Dictionary<string, string>());
            tracker.LogBatch(run, [], new Dictionary<string, string> { ["lr"] = "0.2" }, new Dictionary<string, string>());
        }
        _server.Start();
        (code, _, stderr) = PeftProcess.Run("tracking", "sync", "--outbox", Outbox);
        Assert.Equal(1, code);
        var errorLine = Assert.Single(stderr.Split('\n'), l => l.StartsWith("error: ", StringComparison.Ordinal));
        Assert.Contains("key='lr'", errorLine);
    }

    [Fact]
    public void Targets_are_chosen_by_uri_and_unknown_schemes_list_the_accepted_forms()
    {
        using (var file = TrackingTargets.Create(Temp("mlruns"), Outbox)) Assert.IsType<FileStoreTracker>(file);
        using (var fileUri = TrackingTargets.Create("file://" + Temp("m2"), Outbox)) Assert.IsType<FileStoreTracker>(fileUri);
        using (var http = TrackingTargets.Create(_server.Uri, Outbox)) Assert.IsType<OutboxTracker>(http);
        var e = Assert.Throws<ArgumentException>(() => TrackingTargets.Create("sqlite:///mlflow.db", Outbox));
        Assert.Contains("'sqlite:///mlflow.db'", e.Message);
        Assert.Contains("file:///", e.Message);
        var saved = Environment.GetEnvironmentVariable("MLFLOW_TRACKING_URI");
        try
        {
            Environment.SetEnvironmentVariable("MLFLOW_TRACKING_URI", "http://example:5000");
            Assert.Equal("http://example:5000", TrackingTargets.ResolveUri(null));
            Environment.SetEnvironmentVariable("MLFLOW_TRACKING_URI", null);
            Assert.Equal("./mlruns", TrackingTargets.ResolveUri(""));
        }
        finally
        {
            Environment.SetEnvironmentVariable("MLFLOW_TRACKING_URI", saved);
        }
    }
}
