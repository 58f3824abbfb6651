using System.Diagnostics;
using Peft.Core.Tracking;
using Peft.Tests.Cli;
using Peft.Tracking.Mlruns;

namespace Peft.Tests.Experiments;

/// <summary><c>peft plan</c> and <c>peft run</c> as processes on a tiny world and a tiny random CLIP, logging to an mlruns folder.</summary>
public sealed class PeftRunCommandTests : TinyWorldDirectory
{
    // Fast settings: no bisection for the probe, a small α/β search and 2 views for Tip-Adapter.
    const string Methods = """{ "zero-shot": {}, "linear-probe": { "bisectionSteps": 0, "cGrid": [1, 100] }, "tip-adapter": { "augmentViews": 2, "searchStep": [10, 5] } }""";

    public PeftRunCommandTests() : base("peft-run-cli-") { }

    string Experiment(string[] datasets, string shots, string seeds)
    {
        var entries = string.Join(", ", datasets.Select(d => $$"""{ "name": "{{d}}", "type": "coop_layout", "root": "world/synth_{{d}}" }"""));
        File.WriteAllText(Temp("exp.json"), $$"""
            {
              "name": "cli-test", "backbone": { "model": "model.safetensors" },
              "datasets": [ {{entries}} ], "shots": {{shots}}, "seeds": {{seeds}}, "trainViews": 2,
              "cache": "cache", "output": "out", "tracking": { "uri": "mlruns" },
              "methods": {{Methods}}
            }
            """);
        return Temp("exp.json");
    }

    List<MlrunsRun> Runs()
    {
        var reader = new MlrunsReader(Temp("mlruns"));
        var experiment = reader.FindExperiment("cli-test") ?? throw new InvalidOperationException("no experiment in mlruns");
        return reader.Runs(experiment.ExperimentId).ToList();
    }

    List<MlrunsRun> CellRuns() => Runs().Where(r => r.Tags.GetValueOrDefault("peft.role") == "cell").ToList();

    void AssertEveryCellFinishedOnce(int cells)
    {
        var finished = CellRuns().Where(r => r.Status == RunStatus.Finished).GroupBy(r => r.Tags["peft.cell"]).ToList();
        Assert.Equal(cells, finished.Count);
        Assert.All(finished, g => Assert.Single(g));
        Assert.DoesNotContain(CellRuns(), r => r.Status == RunStatus.Running);
        Assert.Equal(cells, Directory.GetFiles(Temp("out/results"), "*.json", SearchOption.AllDirectories).Length);
    }

    /// <summary>A CSV's lines in ordinal order (the experiment's report orders datasets as the file does, mlruns by name).</summary>
    static string[] Lines(string csv) => csv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public void PlanShowsACellThatALiveProcessRunsAsRunningNotInterrupted()
    {
        var exp = Experiment(["shapes"], "[1]", "[1]");
        // This test process holds a cell's lease, as a live `peft run` does; `peft plan` is another process.
        using (var lease = new Peft.Host.Experiments.CellLeases(Temp("out")).TryAcquire("shapes/1/1/zero-shot"))
        {
            Assert.NotNull(lease);
            var (code, stdout, stderr) = PeftProcess.Run("plan", exp);
            Assert.True(code == 0, stderr);
            Assert.Contains($"running (pid {Environment.ProcessId}, host {Environment.MachineName})", stdout);
            Assert.Contains("0 interrupted", stdout);
        }
        // Another process's identity is the same whoever computes it, and gone once it exits.
        using var sleeper = Process.Start("sleep", "60");
        var identity = Peft.Host.Experiments.ProcessIdentity.For(sleeper.Id)!;
        for (int i = 0; i < 20; i++) Assert.Equal(identity, Peft.Host.Experiments.ProcessIdentity.For(sleeper.Id));
        Assert.False(Peft.Host.Experiments.ProcessIdentity.IsGone(identity));
        sleeper.Kill();
        sleeper.WaitForExit();
        Assert.True(Peft.Host.Experiments.ProcessIdentity.IsGone(identity));
    }

    [Fact]
    public void PlanSaysWhereDataWillBeGeneratedForACopiedExperimentFile()
    {
        Directory.CreateDirectory(Temp("elsewhere/experiments"));
        File.Copy(Path.Combine(PeftProcess.Repository, "experiments", "quickstart.json"), Temp("elsewhere/experiments/quickstart.json"));
        var (code, stdout, stderr) = PeftProcess.Run("plan", Temp("elsewhere/experiments/quickstart.json"),
            "--set", $"backbone:model={Temp("model.safetensors")}");
        Assert.True(code == 0, stderr);
        Assert.Contains($"data: synth_shapes is not at {Temp("elsewhere/data/synth")} yet; it will be generated there on first use", stdout);
        Assert.False(Directory.Exists(Temp("elsewhere/data")), "plan must not create the data");
        // The tiny world of this folder exists: nothing to say.
        (code, stdout, stderr) = PeftProcess.Run("plan", Experiment(["shapes"], "[1]", "[1]"));
        Assert.True(code == 0, stderr);
        Assert.DoesNotContain("data: ", stdout);
    }

    [Fact]
    public void ThreadsComeFromTheCommandLineOrPeftThreadsAndBadValuesAreNamed()
    {
        var exp = Experiment(["shapes"], "[1]", "[1]");
        var (code, stdout, stderr) = PeftProcess.Run("plan", exp, "--threads", "3");
        Assert.True(code == 0, stderr);
        Assert.Contains("threads: 3 (of ", stdout);
        (code, stdout, stderr) = PeftProcess.Exec("dotnet", [PeftProcess.Dll, "plan", exp], PeftProcess.HangGuard, new Dictionary<string, string> { ["PEFT_THREADS"] = "1" });
        Assert.True(code == 0, stderr);
        Assert.Contains("threads: 1 (of ", stdout);
        (code, _, stderr) = PeftProcess.Run("plan", exp, "--threads", "0");
        Assert.NotEqual(0, code);
        Assert.Contains("--threads must be at least 1 (got 0)", stderr);
        (code, _, stderr) = PeftProcess.Exec("dotnet", [PeftProcess.Dll, "run", exp], PeftProcess.HangGuard, new Dictionary<string, string> { ["PEFT_THREADS"] = "many" });
        Assert.NotEqual(0, code);
        Assert.Contains("PEFT_THREADS='many' must be a whole number of threads", stderr);
        Assert.False(Directory.Exists(Temp("out/results")));

        // A run with one thread records it in every cell.
        (code, _, stderr) = PeftProcess.Run("run", exp, "--threads", "1", "--no-report");
        Assert.True(code == 0, stderr);
        Assert.Contains("threads: 1 (of ", stderr);
        Assert.All(CellRuns(), r => Assert.Equal(1.0, r.LatestMetrics["threads"].Value));
    }

    [Fact]
    public void PlanRunAndRerunAGridOfTwoDatasetsTwoShotsTwoSeedsThreeMethods()
    {
        var exp = Experiment(["shapes", "fine"], "[1, 2]", "[1, 2]");
        var (code, stdout, stderr) = PeftProcess.Run("plan", exp);
        Assert.True(code == 0, stderr);
        Assert.Contains("24 cells: 24 pending, 0 done", stdout);

        (code, stdout, stderr) = PeftProcess.Run("run", exp);
        Assert.True(code == 0, stderr);
        AssertEveryCellFinishedOnce(24);
        var parent = Assert.Single(Runs(), r => r.Tags.GetValueOrDefault("peft.role") == "parent");
        Assert.Equal(RunStatus.Finished, parent.Status);
        var probe = CellRuns().Single(r => r.Tags["peft.cell"] == "fine/2/1/linear-probe");
        Assert.Equal(parent.RunId, probe.Tags["mlflow.parentRunId"]);
        Assert.Equal("[1, 100]", probe.Params["method.cGrid"]);
        Assert.InRange(probe.LatestMetrics["test_top1"].Value, 0, 100);
        Assert.True(File.Exists(Path.Combine(probe.ArtifactDirectory!, "split.json")));
        // The run ends with the report of the whole grid; 'peft report' gives the same from the output folder or mlruns.
        Assert.Contains("zero-shot", stdout);
        var csv = File.ReadAllText(Temp("out/report/results.csv"));
        Assert.Equal(25, csv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.True(File.Exists(Temp("out/report/report.html")) && File.Exists(Temp("out/report/plots/accuracy-average.png")));
        // The parent run carries the experiment file, its resolved settings, the report and the averaged accuracies.
        parent = Assert.Single(Runs(), r => r.Tags.GetValueOrDefault("peft.role") == "parent");
        foreach (var artifact in new[] { "experiment/exp.json", "experiment/resolved.json", "report/report.md", "report/report.html", "report/results.csv", "report/plots/accuracy-average.png" })
            Assert.True(File.Exists(Path.Combine(parent.ArtifactDirectory!, artifact)), artifact);
        Assert.Equal(csv, File.ReadAllText(Path.Combine(parent.ArtifactDirectory!, "report/results.csv")));
        Assert.InRange(parent.LatestMetrics["avg_test_top1/zero-shot/2_shots"].Value, 0, 100);
        Assert.Equal(2, parent.LatestMetrics["avg_test_top1/linear-probe/2_shots"].Step);
        (code, stdout, stderr) = PeftProcess.Run("report", Temp("mlruns"), "--out", Temp("from-mlruns"), "--baseline", "linear-probe");
        Assert.True(code == 0, stderr);
        Assert.Equal(Lines(csv), Lines(File.ReadAllText(Temp("from-mlruns/results.csv"))));
        Assert.Contains("Comparison with linear-probe", File.ReadAllText(Temp("from-mlruns/report.md")));
        (code, _, stderr) = PeftProcess.Run("report", Temp("out"), "--out", Temp("from-out"));
        Assert.True(code == 0, stderr);
        Assert.Equal(Lines(csv), Lines(File.ReadAllText(Temp("from-out/results.csv"))));
        (code, _, stderr) = PeftProcess.Run("report", Temp("mlruns"), "--experiment", "nope");
        Assert.Equal(1, code);
        Assert.Contains("no experiment named 'nope'; experiments with cells: 'cli-test'", stderr);

        (code, stdout, _) = PeftProcess.Run("plan", exp);
        Assert.Contains("24 cells: 0 pending, 24 done", stdout);
        (code, _, stderr) = PeftProcess.Run("run", exp);
        Assert.True(code == 0, stderr);
        Assert.Contains("0 cells run, 24 already done", stderr);
        Assert.Equal(24, CellRuns().Count);
        Assert.Single(Runs(), r => r.Tags.GetValueOrDefault("peft.role") == "parent"); // the no-op rerun opened none

        (code, stdout, _) = PeftProcess.Run("plan", exp, "--shard", "1/3");
        Assert.Contains("9 cells in shard 1/3 (of 24)", stdout); // 8 groups round-robin: 3 of them
        (code, _, stderr) = PeftProcess.Run("plan", exp, "--set", "shots:0=0", "--set", "methods:tip-adapter:augmentViews=0");
        Assert.Equal(1, code);
        Assert.Contains("shots:0: must be ≥ 1, got 0", stderr);
        Assert.Contains("methods:tip-adapter:augmentViews: must be at least 1, got 0", stderr);
    }

    [Fact]
    public void ARunKilledAtSeveralPointsCompletesOnRerunWithOneFinishedRunPerCell()
    {
        // 18 cells, so that the third kill still finds pending cells even when a kill lands several (fast) cells
        // after the start line that triggered it (CI once saw two invocations finish 5 of 6 cells).
        var exp = Experiment(["shapes"], "[1, 2, 4]", "[1, 2]");
        int invocations = 0;
        bool allKilled = true;
        foreach (int k in new[] { 1, 2, 3 })
        {
            invocations++;
            bool killed = RunAndKillAtStartLine(exp, k);
            Assert.True(killed || k > 1, "the first invocation ended before its first cell started");
            if (!killed) { allKilled = false; break; } // it finished every pending cell: nothing left to kill
        }
        var (code, _, stderr) = PeftProcess.Run("run", exp);
        Assert.True(code == 0, stderr);
        AssertEveryCellFinishedOnce(18);
        Assert.Contains(CellRuns(), r => r.Status == RunStatus.Killed); // stale runs of killed cells were ended
        // Parents that killed invocations left RUNNING were ended KILLED by the next invocation (a kill can land after
        // a short invocation's last cell, when its parent had already finished); none stays RUNNING. A final rerun
        // with nothing pending opens no parent.
        var parents = Runs().Where(r => r.Tags.GetValueOrDefault("peft.role") == "parent").OrderBy(r => r.StartTime).ToList();
        Assert.Equal(allKilled ? invocations + 1 : invocations, parents.Count);
        Assert.DoesNotContain(parents, p => p.Status == RunStatus.Running);
        Assert.Equal(RunStatus.Killed, parents[0].Status);
        Assert.Equal(RunStatus.Finished, parents[^1].Status);
    }

    /// <summary>Starts <c>peft run</c> and kills it (SIGKILL) when its k-th "cell … start:" line appears on stderr;
    /// false when the run ended (exit 0) before that line.</summary>
    bool RunAndKillAtStartLine(string exp, int k)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { PeftProcess.Dll, "run", exp }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        int starts = 0;
        var killed = new ManualResetEventSlim();
        p.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null && e.Data.Contains(" start: ") && Interlocked.Increment(ref starts) == k)
            {
                p.Kill();
                killed.Set();
            }
        };
        p.OutputDataReceived += (_, _) => { };
        p.BeginErrorReadLine();
        p.BeginOutputReadLine();
        if (!p.WaitForExit(PeftProcess.HangGuard)) { p.Kill(entireProcessTree: true); throw new TimeoutException("peft run did not stop"); }
        p.WaitForExit();
        if (!killed.IsSet) Assert.True(p.ExitCode == 0, $"the run failed (exit {p.ExitCode}) before its start line {k}");
        return killed.IsSet;
    }

    [Fact]
    public async Task TwoShardsAtOnceOnOneMlrunsFolderAndCacheRunEveryCellOnce()
    {
        var exp = Experiment(["shapes", "fine"], "[1]", "[1, 2]");
        var shards = await Task.WhenAll(
            Task.Run(() => PeftProcess.Run("run", exp, "--shard", "0/2")),
            Task.Run(() => PeftProcess.Run("run", exp, "--shard", "1/2")));
        foreach (var (code, _, stderr) in shards) Assert.True(code == 0, stderr);
        AssertEveryCellFinishedOnce(12);
        var parents = Runs().Where(r => r.Tags.GetValueOrDefault("peft.role") == "parent").ToList();
        Assert.Equal(["0/2", "1/2"], parents.Select(p => p.Tags["peft.shard"]).Order());
        Assert.All(parents, p => Assert.Equal(RunStatus.Finished, p.Status));
        Assert.Empty(Directory.GetFiles(Temp("cache"), "*.tmp", SearchOption.AllDirectories));
    }
    [Fact]
    public void TwoUnshardedRunsOfOneExperimentAtOnceShareTheCellsEachRunOnce()
    {
        // Two datasets, two seeds: four groups the two invocations can split between them.
        var exp = Experiment(["shapes", "fine"], "[1]", "[1, 2]");
        var both = Task.WhenAll(Task.Run(() => PeftProcess.Run("run", exp, "--no-report")), Task.Run(() => PeftProcess.Run("run", exp, "--no-report"))).Result;
        Assert.All(both, r => Assert.True(r.exitCode == 0, r.stderr));
        AssertEveryCellFinishedOnce(12);
        Assert.DoesNotContain(CellRuns(), r => r.Status == RunStatus.Killed); // neither ended the other's runs
        Assert.Equal(12, CellRuns().Count);                                   // and no cell was started twice
        var parents = Runs().Where(r => r.Tags.GetValueOrDefault("peft.role") == "parent").ToList();
        Assert.Equal(2, parents.Count);
        Assert.All(parents, p => Assert.Equal(RunStatus.Finished, p.Status));
    }

    [Fact]
    public void AReportOfAnExperimentWithDeletedResultsFailsUntilRunRestoresThem()
    {
        var exp = Experiment(["shapes", "fine"], "[1]", "[1]");
        var (code, _, stderr) = PeftProcess.Run("run", exp, "--no-report");
        Assert.True(code == 0, stderr);
        Directory.Delete(Temp("out/results/shapes"), recursive: true);

        (code, _, stderr) = PeftProcess.Run("report", exp);
        Assert.Equal(1, code);
        Assert.Contains("3 of 6 planned cells have no result (datasets shapes)", stderr);
        Assert.Contains("--allow-missing", stderr);
        (code, _, stderr) = PeftProcess.Run("report", exp, "--allow-missing");
        Assert.True(code == 0, stderr);
        Assert.Contains("WARNING: 3 of 6 planned cells have no result", stderr);

        (code, _, stderr) = PeftProcess.Run("run", exp, "--no-report");
        Assert.True(code == 0, stderr);
        Assert.Contains("0 cells run, 6 already done", stderr);
        Assert.Contains("restored", stderr);
        AssertEveryCellFinishedOnce(6);
        (code, _, stderr) = PeftProcess.Run("report", exp);
        Assert.True(code == 0, stderr);
        Assert.DoesNotContain("WARNING", stderr);
    }
}
