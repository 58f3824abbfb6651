using Peft.Core.Tracking;
using Peft.Host.Experiments;
using Peft.Host.Plugins;
using Peft.Methods.ZeroShot;
using Peft.Tracking.Mlruns;
using Peft.Results;

namespace Peft.Tests.Experiments;

/// <summary>
/// Local results and tracker runs kept in step: deleted or edited results are restored from the tracker (or rerun),
/// deleted child runs logged again, and reports refuse to average fewer cells than planned. Also the per-cell leases.
/// </summary>
public sealed class ResultRepairTests(RunnerWorld world) : TempDirectory("peft-repair-"), IClassFixture<RunnerWorld>
{
    const string Methods = """{ "zero-shot": {}, "fake": { "correctClasses": [2, 8, 5] } }""";

    ExperimentSpec Spec(string folder = "a") =>
        new ExperimentReader(MethodCatalog.From(new FakeMethods(), new ZeroShotPlugin())) { CurrentDirectory = Dir }
            .Read(ExperimentConfiguration.Load(world.Experiment(Temp(folder), Methods), [], new Dictionary<string, string>()));

    static (RunSummary Summary, string Log) Run(ExperimentSpec spec, IExperimentTracker tracker)
    {
        var log = new StringWriter();
        var summary = new ExperimentRunner(spec, tracker) { Log = log }.Run();
        return (summary, log.ToString());
    }

    static Dictionary<string, CellRecord> Records(ExperimentSpec spec) =>
        new LocalResultStore(spec.OutputDir).ReadAllRecords().ToDictionary(r => r.Cell);

    [Fact]
    public void ADeletedDatasetFolderOfResultsIsRestoredFromTheFinishedRunsOfAnMlrunsFolder()
    {
        var spec = Spec();
        using var tracker = new FileStoreTracker(Temp("mlruns"));
        Run(spec, tracker);
        var before = Records(spec);
        Assert.All(before.Values, r => Assert.True(r.IsIntact && r.ResultSha256 is { Length: 64 }));
        Directory.Delete(Path.Combine(spec.ResultsDir, "shapes"), recursive: true);
        var check = ResultCheck.Of(new LocalResultStore(spec.OutputDir), new ExperimentPlan(spec).Cells);
        Assert.Equal(4, check.Missing.Count);
        Assert.Contains("4 of 8 planned cells have no result (datasets shapes)", check.DescribeMissing());

        int runs = new MlrunsReader(Temp("mlruns")).Runs(tracker.GetOrCreateExperiment("runner-test")).Count;
        var (summary, log) = Run(spec, tracker);
        Assert.Equal((0, 8), (summary.Ran, summary.Skipped));
        Assert.Equal(4, log.Split('\n').Count(l => l.Contains("restored") && l.Contains("from its FINISHED run")));
        var after = Records(spec);
        foreach (var (cell, record) in before)
        {
            Assert.Equal(record.Result.TestTop1, after[cell].Result.TestTop1);
            Assert.Equal(record.ResultSha256, after[cell].ResultSha256); // the very same values
            Assert.Equal(record.RunId, after[cell].RunId);
        }
        // No run was added: nothing was rerun, so no parent run either.
        Assert.Equal(runs, new MlrunsReader(Temp("mlruns")).Runs(tracker.GetOrCreateExperiment("runner-test")).Count);
    }

    [Fact]
    public void AnEditedResultIsDetectedRefusedByTheReportCheckAndRestored()
    {
        var spec = Spec();
        var tracker = new InMemoryTracker();
        Run(spec, tracker);
        var store = new LocalResultStore(spec.OutputDir);
        var path = store.ResultPath("fine/1/1/fake");
        var original = store.TryReadResult("fine/1/1/fake")!;
        // Edited by hand: the accuracy is changed, the checksum is not.
        var json = File.ReadAllText(path);
        var edited = json.Replace($"\"testTop1\": {original.Result.TestTop1.ToString(System.Globalization.CultureInfo.InvariantCulture)}", "\"testTop1\": 99.5");
        Assert.NotEqual(json, edited);
        File.WriteAllText(path, edited);

        Assert.Equal(CellState.Edited, new CellStates(store, null, null).Of(new ExperimentPlan(spec).Cells.Single(c => c.Key == "fine/1/1/fake")));
        var check = ResultCheck.Of(store, new ExperimentPlan(spec).Cells);
        Assert.Equal([path], check.Edited);
        Assert.Equal(["fine/1/1/fake"], check.Missing); // an edited result is not used
        Assert.DoesNotContain(check.Results, r => r.TestTop1 == 99.5);

        var (summary, log) = Run(spec, tracker);
        Assert.Contains($"{path}: its values do not match their checksum", log);
        Assert.Equal((0, 8), (summary.Ran, summary.Skipped));
        Assert.Equal(original.Result.TestTop1, store.TryReadResult("fine/1/1/fake")!.Result.TestTop1);
        Assert.Empty(ResultCheck.Of(store, new ExperimentPlan(spec).Cells).Edited);
    }

    [Fact]
    public void AResultThatTheTrackerCannotRestoreIsRerun()
    {
        var spec = Spec();
        var tracker = new InMemoryTracker();
        Run(spec, tracker);
        var store = new LocalResultStore(spec.OutputDir);
        File.Delete(store.ResultPath("shapes/2/1/zero-shot"));
        // The run lost its test metrics (a server that dropped a batch).
        tracker.CellRuns("shapes/2/1/zero-shot").Single().Metrics.RemoveAll(m => m.Key == TrackingNames.TestTop1);
        var (summary, log) = Run(spec, tracker);
        Assert.Contains("cannot restore the result (metric test_top1); rerunning the cell", log);
        Assert.Equal((1, 7), (summary.Ran, summary.Skipped));
        Assert.NotNull(store.TryReadResult("shapes/2/1/zero-shot"));
    }

    [Fact]
    public void AChildRunDeletedFromMlrunsIsLoggedAgainFromTheLocalResult()
    {
        var spec = Spec();
        using var tracker = new FileStoreTracker(Temp("mlruns"));
        Run(spec, tracker);
        var store = new LocalResultStore(spec.OutputDir);
        var record = store.TryReadResult("fine/2/1/fake")!;
        var reader = new MlrunsReader(Temp("mlruns"));
        Directory.Delete(reader.FindRun(record.RunId!)!.Directory, recursive: true);

        var (summary, log) = Run(spec, tracker);
        Assert.Equal((0, 8), (summary.Ran, summary.Skipped));
        Assert.Contains($"its run {record.RunId} is missing", log);
        var repaired = store.TryReadResult("fine/2/1/fake")!;
        Assert.NotEqual(record.RunId, repaired.RunId);
        var run = new MlrunsReader(Temp("mlruns")).FindRun(repaired.RunId!)!;
        Assert.Equal(RunStatus.Finished, run.Status);
        Assert.Equal("fine/2/1/fake", run.Tags[TrackingNames.CellTag]);
        Assert.Contains(record.RunId!, run.Tags[TrackingNames.RecreatedFromTag]);
        Assert.Equal(record.Result.TestTop1, run.LatestMetrics[TrackingNames.TestTop1].Value);
        Assert.Equal("8", run.Params["method.correctClasses"]);
        Assert.Equal(CellResultHash.Of(record.Result), run.Tags[TrackingNames.ResultHashTag]);
        // A third run finds everything in place and adds no run at all (no empty parent).
        int runs = new MlrunsReader(Temp("mlruns")).Runs(run.ExperimentId).Count;
        (_, log) = Run(spec, tracker);
        Assert.DoesNotContain("missing", log);
        Assert.Equal(runs, new MlrunsReader(Temp("mlruns")).Runs(run.ExperimentId).Count);
    }

    [Fact]
    public void ALeaseIsExclusiveNamesItsHolderAndIsFreeAgainWhenReleased()
    {
        var leases = new CellLeases(Temp("out"));
        using (var lease = leases.TryAcquire("shapes/1/1/fake"))
        {
            Assert.NotNull(lease);
            Assert.Null(leases.TryAcquire("shapes/1/1/fake")); // a second holder (flock: another open file, here the same process)
            Assert.NotNull(leases.TryAcquire("shapes/1/1/zero-shot"));
            var holder = leases.LiveHolder("shapes/1/1/fake")!;
            Assert.Equal((Environment.ProcessId, Environment.MachineName), (holder.ProcessId, holder.Host));
            Assert.Equal($"pid {Environment.ProcessId}, host {Environment.MachineName}", holder.ToString());
        }
        Assert.Null(leases.Holder("shapes/1/1/fake"));
        using var again = leases.TryAcquire("shapes/1/1/fake");
        Assert.NotNull(again);
    }

    [Fact]
    public void AHolderFileLeftByADeadProcessIsNotRunning()
    {
        var leases = new CellLeases(Temp("out"));
        Directory.CreateDirectory(Path.Combine(leases.Dir, "shapes", "1", "1"));
        File.WriteAllText(Path.Combine(leases.Dir, "shapes", "1", "1", "fake.json"),
            $$"""{ "cell": "shapes/1/1/fake", "process": "{{Environment.MachineName}}:999999:1", "processId": 999999, "host": "{{Environment.MachineName}}", "sinceUtc": "2026-01-01T00:00:00Z" }""");
        Assert.NotNull(leases.Holder("shapes/1/1/fake"));
        Assert.Null(leases.LiveHolder("shapes/1/1/fake"));
        using var lease = leases.TryAcquire("shapes/1/1/fake"); // the kernel dropped the dead process's lock
        Assert.NotNull(lease);
    }

    [Fact]
    public void CellsLeasedByAnotherInvocationAreSkippedAndShownAsRunning()
    {
        var spec = Spec();
        var tracker = new InMemoryTracker();
        var leases = new CellLeases(spec.OutputDir);
        var cells = new ExperimentPlan(spec).Cells;
        using (var held = leases.TryAcquire("fine/2/1/fake"))
        {
            var plan = new CellStates(new LocalResultStore(spec.OutputDir), null, null) { Leases = leases };
            Assert.Equal(CellState.Running, plan.Of(cells.Single(c => c.Key == "fine/2/1/fake")));
            Assert.Equal(CellState.Pending, plan.Of(cells.Single(c => c.Key == "fine/2/1/zero-shot")));

            var (summary, log) = Run(spec, tracker);
            Assert.Equal((7, 0, 0), (summary.Ran, summary.Skipped, summary.ExitCode));
            Assert.Equal(["fine/2/1/fake"], summary.Busy.Keys);
            Assert.Contains($"is being run by another invocation (pid {Environment.ProcessId}, host {Environment.MachineName})", log);
            Assert.Empty(tracker.CellRuns("fine/2/1/fake")); // not touched: no run created, none ended
        }
        var (after, _) = Run(spec, tracker);
        Assert.Equal((1, 7), (after.Ran, after.Skipped));
        Assert.All(cells, c => Assert.Single(tracker.CellRuns(c.Key), r => r.Status == RunStatus.Finished));
    }
}
