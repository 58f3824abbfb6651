using System.Text.Json;
using Peft.Core.Tracking;
using Peft.Host.Experiments;
using Peft.Host.Plugins;
using Peft.Methods.ZeroShot;
using Peft.Results;

namespace Peft.Tests.Experiments;

public sealed class ExperimentRunnerTests(RunnerWorld world) : TempDirectory("peft-runner-"), IClassFixture<RunnerWorld>
{
    const string GridMethods = """{ "zero-shot": {}, "fake": { "correctClasses": [2, 8, 5] } }""";

    ExperimentSpec Spec(string methods, string folder = "a") =>
        new ExperimentReader(MethodCatalog.From(new FakeMethods(), new ZeroShotPlugin())) { CurrentDirectory = Dir }
            .Read(ExperimentConfiguration.Load(world.Experiment(Temp(folder), methods), [], new Dictionary<string, string>()));

    static RunSummary Run(ExperimentSpec spec, InMemoryTracker tracker, CancellationToken cancel = default) =>
        new ExperimentRunner(spec, tracker) { Log = TextWriter.Null }.Run(cancel);

    static List<InMemoryTracker.Run> Finished(InMemoryTracker tracker, string cell) =>
        tracker.CellRuns(cell).Where(r => r.Status == RunStatus.Finished).ToList();

    [Fact]
    public void RunsEveryCellSelectsGridPointsOnValidationAndLogsThem()
    {
        var spec = Spec(GridMethods);
        var tracker = new InMemoryTracker();
        var summary = Run(spec, tracker);
        Assert.Equal((8, 0, 0, 0), (summary.Ran, summary.Skipped, summary.Failures.Count, summary.ExitCode));

        var parent = tracker.Runs.Single(r => r.Tags["peft.role"] == "parent");
        Assert.Equal(RunStatus.Finished, parent.Status);
        Assert.Equal("0/1", parent.Tags["peft.shard"]);
        // The parent keeps the experiment file as written and the settings as resolved.
        Assert.Equal(File.ReadAllBytes(spec.SourcePath), parent.Artifacts["experiment/" + Path.GetFileName(spec.SourcePath)]);
        using (var resolved = JsonDocument.Parse(parent.Artifacts["experiment/resolved.json"]))
        {
            Assert.Equal(spec.Name, resolved.RootElement.GetProperty("name").GetString());
            var fakePoints = resolved.RootElement.GetProperty("methods").GetProperty("fake").GetProperty("shapes").GetProperty("points");
            Assert.Equal(["2", "8", "5"], fakePoints.EnumerateArray().Select(p => p.GetProperty("correctClasses").GetString()));
        }
        // A rerun with every cell done logs nothing: no empty parent run.
        int runs = tracker.Runs.Count;
        Assert.Equal((0, 8, null), Run(spec, tracker) is var again ? (again.Ran, again.Skipped, again.ParentRunId) : default);
        Assert.Equal(runs, tracker.Runs.Count);
        var cells = new ExperimentPlan(spec).Cells;
        foreach (var cell in cells)
        {
            var run = Assert.Single(Finished(tracker, cell.Key));
            Assert.Equal(parent.Id, run.Tags["mlflow.parentRunId"]);
            Assert.Equal(cell.RunName, run.Name);
            Assert.Equal(64, run.Tags["peft.split_sha256"].Length);
            Assert.Equal(cell.Method, run.Params["method"]);
            Assert.Contains(run.Metrics, m => m.Key == "test_top1");
            Assert.Contains(TrackingNames.SplitArtifact, run.Artifacts.Keys);
            Assert.NotNull(new LocalResultStore(spec.OutputDir).TryReadResult(cell.Key));
        }
        // The fake method is right on the first correctClasses classes: 8 is the best validation point, and only it is kept.
        var fake = Finished(tracker, "shapes/2/1/fake").Single();
        Assert.Equal("8", fake.Params["method.correctClasses"]);
        Assert.Equal(80.0, fake.Metrics.Single(m => m.Key == "val_top1").Value, 6);
        using var grid = JsonDocument.Parse(fake.Artifacts[TrackingNames.GridArtifact]);
        Assert.Equal(1, grid.RootElement.GetProperty("selected").GetInt32());
        Assert.Equal([20.0, 80.0, 50.0], grid.RootElement.GetProperty("points").EnumerateArray().Select(p => p.GetProperty("valTop1").GetDouble()));
        Assert.Equal([1L, 2L, 3L], fake.Metrics.Where(m => m.Key == "train/loss").Select(m => m.Step));
        Assert.Contains(TrackingNames.WeightsArtifact, fake.Artifacts.Keys);
        var zeroShot = Finished(tracker, "fine/1/1/zero-shot").Single();
        Assert.DoesNotContain(TrackingNames.GridArtifact, zeroShot.Artifacts.Keys);
        Assert.Equal("dataset", zeroShot.Params["method.templates"]);
        Assert.Equal(8, new LocalResultStore(spec.OutputDir).ReadAll().Count);

        // Cost figures: the threads the cell computed with, the load when it ended, the memory the method added.
        var result = new LocalResultStore(spec.OutputDir).TryReadResult("shapes/2/1/fake")!.Result;
        Assert.Equal(TorchSharp.torch.get_num_threads(), result.Threads);
        if (OperatingSystem.IsLinux())
        {
            Assert.True(result.LoadAverage >= 0);
            Assert.InRange(result.MemoryIncreaseMb!.Value, 0, result.PeakMemoryMb);
        }
        Assert.Equal((double)result.Threads!.Value, fake.Metrics.Single(m => m.Key == "threads").Value);
        Assert.Equal(result.MemoryIncreaseMb, fake.Metrics.Single(m => m.Key == "memory_increase_mb").Value);
        Assert.Equal(fake.Tags["peft.result_sha256"], CellResultHash.Of(result));
    }

    [Fact]
    public void AVariantIsItsOwnRowWithItsOwnCellsAndLogsTheMethodItRuns()
    {
        var spec = Spec("""{ "fake": { "correctClasses": 2 }, "fake-8": { "method": "fake", "correctClasses": 8 } }""");
        var tracker = new InMemoryTracker();
        Assert.Equal(8, Run(spec, tracker).Ran);
        var plain = Finished(tracker, "shapes/2/1/fake").Single();
        var variant = Finished(tracker, "shapes/2/1/fake-8").Single();
        Assert.Equal(("fake-8", "fake", "8"), (variant.Params["method"], variant.Params["method_plugin"], variant.Params["method.correctClasses"]));
        Assert.False(plain.Params.ContainsKey("method_plugin"));
        Assert.Equal(20.0, plain.Metrics.Single(m => m.Key == "val_top1").Value, 6);
        Assert.Equal(80.0, variant.Metrics.Single(m => m.Key == "val_top1").Value, 6);
        Assert.Equal(["fake", "fake-8"], new LocalResultStore(spec.OutputDir).ReadAll().Select(r => r.Method).Distinct().Order());
    }

    [Fact]
    public void ABf16CoOpVariantTrainsThroughTheHostsBf16TowerCopy()
    {
        var spec = new ExperimentReader(MethodCatalog.From(new Peft.Methods.CoOp.CoOpPlugin())) { CurrentDirectory = Dir }
            .Read(ExperimentConfiguration.Load(world.Experiment(Temp("bf16"),
                """{ "coop": { "epochs": 3, "nCtx": 4 }, "coop-bf16": { "method": "coop", "epochs": 3, "nCtx": 4, "precision": "bf16" } }"""),
                [], new Dictionary<string, string>()));
        var tracker = new InMemoryTracker();
        Assert.Equal(8, Run(spec, tracker).Ran);
        foreach (var cell in new[] { "shapes/1/1", "fine/2/1" })
        {
            var plain = Finished(tracker, cell + "/coop").Single();
            var mixed = Finished(tracker, cell + "/coop-bf16").Single();
            Assert.Equal("bf16", mixed.Params["method.precision"]);
            double Loss(InMemoryTracker.Run r) => r.Metrics.Where(m => m.Key == "train/train_loss").MaxBy(m => m.Step)?.Value
                ?? throw new InvalidOperationException($"no train_loss among {string.Join(", ", r.Metrics.Select(m => m.Key).Distinct())}");
            // Same split, same initial context, same batches: only the tower's arithmetic differs.
            Assert.NotEqual(Loss(plain), Loss(mixed));
            Assert.Equal(Loss(plain), Loss(mixed), 0.05 * Loss(plain));
        }
    }

    [Fact]
    public void TheAblationViewTestsEveryGridPointWithoutChangingTheSelectionAndNestsARunPerPoint()
    {
        var plain = new InMemoryTracker();
        Run(Spec(GridMethods, "plain"), plain);
        var spec = Spec(GridMethods, "ablation") with { Ablation = new HashSet<string> { "fake" } };
        var mlruns = Temp("ablation-mlruns");
        using (var tracker = new Peft.Tracking.Mlruns.FileStoreTracker(mlruns)) new ExperimentRunner(spec, tracker) { Log = TextWriter.Null }.Run();

        // The selection and the cell's result are those of the run without the view.
        var check = ResultCheck.Of(new LocalResultStore(spec.OutputDir), new ExperimentPlan(spec).Cells);
        foreach (var result in check.Results)
        {
            var twin = Finished(plain, result.CellKey).Single();
            Assert.Equal(twin.Metrics.Single(m => m.Key == "test_top1").Value, result.TestTop1, 9);
            Assert.Equal(twin.Params.GetValueOrDefault("method.correctClasses"), result.Options.GetValueOrDefault("correctClasses"));
        }
        // Every grid point of every fake cell (4 cells × 3 points), none of zero-shot; validation 20 / 80 / 50, 8 chosen.
        Assert.Equal(12, check.Ablation.Count);
        Assert.All(check.Ablation, p => Assert.Equal("fake", p.Method));
        var cell = check.Ablation.Where(p => p is { Dataset: "shapes", Shots: 2 }).OrderBy(p => p.Index).ToList();
        Assert.Equal(["correctClasses=2", "correctClasses=8", "correctClasses=5"], cell.Select(p => p.Label));
        Assert.Equal([20.0, 80.0, 50.0], cell.Select(p => Math.Round(p.ValTop1, 6)));
        Assert.Equal([false, true, false], cell.Select(p => p.Selected));
        var selected = check.Results.Single(r => r.CellKey == "shapes/2/1/fake");
        Assert.Equal(selected.TestTop1, cell[1].TestTop1, 9);
        Assert.True(cell[0].TestTop1 < cell[1].TestTop1); // the fake method is right on fewer classes at point 0

        // MLflow: one nested run per point under its cell's run, read back by reports; cells unaffected.
        var loaded = Peft.Reporting.MlrunsResults.Read(mlruns, null);
        Assert.Equal(check.Results.Count, loaded.Results.Count);
        Assert.Equal(check.Ablation.Select(p => (p.CellKeyOf(), p.Index, p.TestTop1, p.Selected)).Order(),
            loaded.Ablation.Select(p => (p.CellKeyOf(), p.Index, p.TestTop1, p.Selected)).Order());
        // The grid artifact carries every point's test accuracy, labelled as the ablation view.
        var gridJson = Directory.GetFiles(mlruns, "grid.json", SearchOption.AllDirectories);
        Assert.Equal(4, gridJson.Length);
        Assert.All(gridJson, f => Assert.Contains("never used to select", File.ReadAllText(f)));
    }

    [Fact]
    public void AShiftTargetIsTestedWithTheClassifierFittedOnItsSource()
    {
        // shapes → synth_shift: same ten classes and templates, another style. Zero-shot's classifier does not depend on
        // the split, so its accuracy on the target must equal that of a run with synth_shift as an ordinary dataset.
        string shift = Path.Combine(world.Dir, "world", "synth_shift");
        ExperimentSpec Read(string folder, params string[] sets) =>
            new ExperimentReader(MethodCatalog.From(new FakeMethods(), new ZeroShotPlugin())) { CurrentDirectory = Dir }
                .Read(ExperimentConfiguration.Load(world.Experiment(Temp(folder), """{ "zero-shot": {}, "fake": {} }"""), sets, new Dictionary<string, string>()));
        var spec = Read("shift", "datasets:0:targets:0:name=pencil", "datasets:0:targets:0:type=coop_layout", $"datasets:0:targets:0:root={shift}");
        Assert.Equal(["pencil"], spec.Datasets[0].Targets.Select(t => t.Name));
        var mlruns = Temp("shift-mlruns");
        using (var tracker = new Peft.Tracking.Mlruns.FileStoreTracker(mlruns)) new ExperimentRunner(spec, tracker) { Log = TextWriter.Null }.Run();
        var direct = Read("direct", "datasets:1:name=pencil", $"datasets:1:root={shift}");
        var directTracker = new InMemoryTracker();
        Run(direct, directTracker);

        var results = ResultCheck.Of(new LocalResultStore(spec.OutputDir), new ExperimentPlan(spec).Cells).Results;
        Assert.All(results.Where(r => r.Dataset == "fine"), r => Assert.Null(r.Shift));
        var shapes = results.Where(r => r.Dataset == "shapes").ToList();
        Assert.Equal(4, shapes.Count);
        Assert.All(shapes, r => Assert.Equal(["pencil"], r.Shift!.Keys));
        foreach (var shots in new[] { 1, 2 })
        {
            var zeroShot = shapes.Single(r => r.Method == "zero-shot" && r.Shots == shots);
            var onTarget = Finished(directTracker, $"pencil/{shots}/1/zero-shot").Single().Metrics;
            Assert.Equal(onTarget.Single(m => m.Key == "test_top1").Value, zeroShot.Shift!["pencil"].TestTop1, 9);
            Assert.Equal(onTarget.Single(m => m.Key == "test_mean_per_class").Value, zeroShot.Shift!["pencil"].TestMeanPerClass, 9);
        }
        // Logged as shift/<target>/… metrics and read back from mlruns; the report gets the papers' table.
        var loaded = Peft.Reporting.MlrunsResults.Read(mlruns, null);
        Assert.Equal(shapes.Select(r => (r.CellKey, r.Shift!["pencil"])).Order(),
            loaded.Results.Where(r => r.Dataset == "shapes").Select(r => (r.CellKey, r.Shift!["pencil"])).Order());
        var files = Peft.Reporting.ReportWriter.Write(results, new Peft.Reporting.ReportOptions(Temp("report")) { Title = "shift" });
        var md = File.ReadAllText(files.Markdown);
        Assert.Contains("## Distribution shift", md);
        Assert.Contains("| Method | shapes (source) | pencil | target average |", md);
        Assert.Contains("trained on shapes", File.ReadAllText(files.Html));
    }

    [Fact]
    public void TheSameSeedsGiveTheSameResultsOnARerun()
    {
        var first = new InMemoryTracker();
        var second = new InMemoryTracker();
        Run(Spec(GridMethods, "a"), first);
        Run(Spec(GridMethods, "b"), second);
        foreach (var run in first.Runs.Where(r => r.Tags["peft.role"] == "cell"))
        {
            var twin = second.Runs.Single(r => r.Tags.GetValueOrDefault("peft.cell") == run.Tags["peft.cell"]);
            foreach (var key in new[] { "test_top1", "test_mean_per_class", "val_top1" })
                Assert.Equal(run.Metrics.Single(m => m.Key == key).Value, twin.Metrics.Single(m => m.Key == key).Value);
            if (run.Artifacts.TryGetValue(TrackingNames.WeightsArtifact, out var weights))
                Assert.Equal(weights, twin.Artifacts[TrackingNames.WeightsArtifact]);
        }
    }

    [Fact]
    public void ARerunSkipsFinishedCellsAndRepairsTheCrashWindows()
    {
        var spec = Spec(GridMethods);
        var tracker = new InMemoryTracker();
        Run(spec, tracker);
        var store = new LocalResultStore(spec.OutputDir);

        // Killed while fitting: run RUNNING, marker written, no result.
        var killed = Finished(tracker, "shapes/1/1/fake").Single();
        killed.Status = RunStatus.Running;
        File.Delete(store.ResultPath("shapes/1/1/fake"));
        store.WriteMarker(new CellMarker("shapes/1/1/fake", killed.Id, CellMarker.Running, 1, "h", DateTimeOffset.UtcNow));
        // Killed after writing the result, before ending the run FINISHED.
        var unended = Finished(tracker, "fine/2/1/zero-shot").Single();
        unended.Status = RunStatus.Running;
        store.WriteMarker(new CellMarker("fine/2/1/zero-shot", unended.Id, CellMarker.Running, 1, "h", DateTimeOffset.UtcNow));
        var states = new CellStates(store, tracker, "1");
        Assert.Equal(CellState.Interrupted, states.Of(new ExperimentPlan(spec).Cells.Single(c => c.Key == "shapes/1/1/fake")));

        int runsBefore = tracker.Runs.Count;
        var summary = Run(spec, tracker);
        Assert.Equal((1, 7), (summary.Ran, summary.Skipped));
        Assert.Equal(RunStatus.Killed, killed.Status);
        Assert.Equal(RunStatus.Finished, unended.Status);
        Assert.Equal(runsBefore + 2, tracker.Runs.Count); // a parent and the rerun cell
        foreach (var cell in new ExperimentPlan(spec).Cells) Assert.Single(Finished(tracker, cell.Key));
        Assert.False(Directory.EnumerateFiles(store.StateDir, "*", SearchOption.AllDirectories).Any());

        // With the tracker unreachable for lookups, the local results decide: nothing reruns.
        tracker.FindDown = true;
        var offline = Run(spec, tracker);
        Assert.Equal((0, 8), (offline.Ran, offline.Skipped));
    }

    [Fact]
    public void AFailingMethodFailsItsCellsOnlyAndTheRunEndsNonZero()
    {
        var spec = Spec("""{ "fails": {}, "zero-shot": {} }""");
        var tracker = new InMemoryTracker();
        var summary = Run(spec, tracker);
        Assert.Equal(1, summary.ExitCode);
        Assert.Equal(["fine/1/1/fails", "fine/2/1/fails", "shapes/1/1/fails", "shapes/2/1/fails"], summary.Failures.Keys.Order());
        Assert.Equal(4, summary.Ran);
        var failed = tracker.CellRuns("shapes/1/1/fails").Single();
        Assert.Equal(RunStatus.Failed, failed.Status);
        Assert.Contains("failed on purpose", failed.Tags["peft.error"]);
        Assert.Contains("error.txt", failed.Artifacts.Keys);
        Assert.Equal(RunStatus.Failed, tracker.Runs.Single(r => r.Tags["peft.role"] == "parent").Status);
        var cell = new ExperimentPlan(spec).Cells.Single(c => c.Key == "shapes/1/1/fails");
        Assert.Equal(CellState.Failed, new CellStates(new LocalResultStore(spec.OutputDir), null, null).Of(cell));
    }

    [Fact]
    public void CancellationEndsTheCellAndTheParentKilled()
    {
        var spec = Spec("""{ "cancels": {}, "zero-shot": {} }""");
        var tracker = new InMemoryTracker();
        using var cts = new CancellationTokenSource();
        FakeMethods.OnFit = cts.Cancel;
        try
        {
            var summary = Run(spec, tracker, cts.Token);
            Assert.True(summary.Cancelled);
            Assert.Equal(130, summary.ExitCode);
        }
        finally
        {
            FakeMethods.OnFit = null;
        }
        Assert.Equal(RunStatus.Killed, tracker.Runs.Single(r => r.Tags["peft.role"] == "parent").Status);
        Assert.Equal(RunStatus.Killed, tracker.CellRuns("shapes/1/1/cancels").Single().Status);
        Assert.Empty(tracker.CellRuns("shapes/1/1/zero-shot")); // nothing after the cancelled cell
        var cell = new ExperimentPlan(spec).Cells.Single(c => c.Key == "shapes/1/1/cancels");
        Assert.Equal(CellState.Interrupted, new CellStates(new LocalResultStore(spec.OutputDir), null, null).Of(cell));
    }
}
