using Peft.Core.Tracking;
using Peft.Tracking.Mlruns;

namespace Peft.Tests.Tracking;

/// <summary>An mlruns folder damaged by hand or by a disk: one bad file never stops the use of every other run.</summary>
public sealed class MlrunsDamageTests() : TempDirectory("peft-mlruns-damage-")
{
    string Mlruns => Temp("mlruns");

    (string Experiment, string Good, string Bad) TwoRuns(FileStoreTracker tracker)
    {
        var exp = tracker.GetOrCreateExperiment("grid");
        string Run(string cell)
        {
            var run = tracker.CreateRun(exp, cell, 1000, new Dictionary<string, string> { ["peft.role"] = "cell", ["peft.cell"] = cell });
            tracker.LogBatch(run, [new("test_top1", 50, 1001, 0)], new Dictionary<string, string>(), new Dictionary<string, string>());
            tracker.EndRun(run, RunStatus.Finished, 2000);
            return run;
        }
        return (exp, Run("a"), Run("b"));
    }

    [Fact]
    public void AMalformedMetricFileIsSkippedWithAWarningNamingItAndOtherRunsStayReadable()
    {
        using var tracker = new FileStoreTracker(Mlruns);
        var (exp, good, bad) = TwoRuns(tracker);
        var badFile = Path.Combine(Mlruns, exp, bad, "metrics", "test_top1");
        File.WriteAllText(badFile, "garbage line\n");

        var warnings = new List<string>();
        var reader = new MlrunsReader(Mlruns) { Warn = warnings.Add };
        var runs = reader.Runs(exp);
        Assert.Equal(2, runs.Count);
        Assert.Equal(50, runs.Single(r => r.RunId == good).LatestMetrics["test_top1"].Value);
        Assert.Empty(runs.Single(r => r.RunId == bad).LatestMetrics);
        var warning = Assert.Single(warnings);
        Assert.StartsWith($"{badFile}: skipped, not a readable MLflow metric file", warning);
        reader.Runs(exp);
        Assert.Single(warnings); // once per file

        // The runner's searches (dead parents, a cell's runs) go through FindRuns: it answers for every run.
        Assert.Equal(2, tracker.FindRuns(exp, "peft.role", "cell").Count);
        Assert.Equal(RunStatus.Finished, Assert.Single(tracker.FindRuns(exp, "peft.cell", "b")).Status);
    }

    [Fact]
    public void ADeletedExperimentMetaYamlIsWrittenAgainAndItsRunsAreKept()
    {
        string exp, good;
        using (var tracker = new FileStoreTracker(Mlruns)) (exp, good, _) = TwoRuns(tracker);
        var meta = Path.Combine(Mlruns, exp, "meta.yaml");
        File.Delete(meta);

        var stderr = new StringWriter();
        var saved = Console.Error;
        Console.SetError(stderr);
        try
        {
            using var again = new FileStoreTracker(Mlruns);
            Assert.Equal(exp, again.GetOrCreateExperiment("grid"));
            Assert.Equal(2, again.FindRuns(exp, "peft.role", "cell").Count);
        }
        finally
        {
            Console.SetError(saved);
        }
        Assert.Contains($"warning: {meta} was missing; wrote it again for experiment 'grid' (id {exp}", stderr.ToString());
        Assert.DoesNotContain("remove the folder", stderr.ToString());
        var experiment = new MlrunsReader(Mlruns).FindExperiment("grid")!;
        Assert.Equal((exp, "active"), (experiment.ExperimentId, experiment.LifecycleStage));
        Assert.True(File.Exists(Path.Combine(Mlruns, exp, good, "meta.yaml")));
    }

    [Fact]
    public void AnUnreadableExperimentMetaYamlIsKeptAsideAndWrittenAgain()
    {
        string exp;
        using (var tracker = new FileStoreTracker(Mlruns)) (exp, _, _) = TwoRuns(tracker);
        var meta = Path.Combine(Mlruns, exp, "meta.yaml");
        File.WriteAllBytes(meta, new byte[64]); // zeros, as a power loss leaves

        var saved = Console.Error;
        Console.SetError(TextWriter.Null);
        try
        {
            using var again = new FileStoreTracker(Mlruns);
            Assert.Equal(exp, again.GetOrCreateExperiment("grid"));
        }
        finally
        {
            Console.SetError(saved);
        }
        Assert.Single(Directory.GetFiles(Path.Combine(Mlruns, exp), "meta.yaml.unreadable-*"));
        Assert.Equal(2, new MlrunsReader(Mlruns).Runs(exp).Count);
    }
}
