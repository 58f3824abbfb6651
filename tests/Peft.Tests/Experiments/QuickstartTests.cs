using Peft.Core.Tracking;
using Peft.Host.Experiments;
using Peft.Tests.Cli;
using Peft.Tracking.Mlruns;
using Peft.Results;

namespace Peft.Tests.Experiments;

/// <summary>
/// The embedded default end to end, reduced (shots 1 and 16, seed 1): <c>experiments/quickstart.json</c> with the
/// shipped tiny CLIP on the synthetic tasks. Checks the outputs a user is promised (a finished run per cell in mlruns,
/// the report, the plots) and the behaviour the synthetic world was designed for (issue 4): every method beats chance,
/// and on the shifted task at 16 shots every trained method beats zero-shot; a rerun with the same seed is bit-identical.
/// </summary>
public sealed class QuickstartTests() : TempDirectory("peft-quickstart-")
{
    static readonly string Experiment = Path.Combine(PeftProcess.Repository, "experiments", "quickstart.json");
    static readonly string[] Trained = ["linear-probe", "coop", "clip-adapter", "tip-adapter", "tip-adapter-f", "gda", "taskres", "lp-plus-plus", "clap"];
    const int Methods = 10; // Trained and zero-shot

    (int, string, string) Run(string output, params string[] extra) => PeftProcess.Run(PeftProcess.HangGuard,
        ["run", Experiment, "--set", $"output={Temp(output)}", "--set", $"tracking:uri={Temp("mlruns")}",
         "--set", $"dataRoot={Temp("synth")}", "--set", $"cache={Temp("cache")}", "--set", "seeds=[1]", .. extra]);

    [Fact]
    public void ReducedQuickstartWritesEveryRunAndTheReportAndShowsTheIntendedBehaviour()
    {
        var (code, stdout, stderr) = Run("out", "--set", "shots=[1,16]");
        Assert.True(code == 0, stderr);

        // mlruns: one FINISHED child run per cell, under one FINISHED parent.
        var reader = new MlrunsReader(Temp("mlruns"));
        var runs = reader.Runs(reader.FindExperiment("quickstart")!.ExperimentId);
        var cells = runs.Where(r => r.Tags.GetValueOrDefault(TrackingNames.RoleTag) == "cell").ToList();
        Assert.Equal(3 * 2 * 1 * Methods, cells.Count);
        Assert.All(cells, r => Assert.Equal(RunStatus.Finished, r.Status));
        Assert.Equal(cells.Count, cells.Select(r => r.Tags[TrackingNames.CellTag]).Distinct().Count());
        Assert.Equal(RunStatus.Finished, Assert.Single(runs, r => r.Tags.GetValueOrDefault(TrackingNames.RoleTag) == "parent").Status);

        // The report, its plots, and the table on stdout.
        foreach (var file in new[] { "report.md", "report.html", "results.csv", "plots/accuracy-average.png", "plots/accuracy-synth_shift.png" })
            Assert.True(File.Exists(Temp($"out/report/{file}")), file);
        Assert.Contains("tip-adapter-f", stdout);

        var results = new LocalResultStore(Temp("out")).ReadAll();
        // The shift protocol: synth_shapes' classifiers are also tested on synth_shift; zero-shot's classifier does not
        // depend on the split, so on the target it scores exactly its synth_shift cells' accuracy.
        Assert.All(results.Where(r => r.Dataset == "synth_shapes"), r => Assert.Equal(["synth_shift"], r.Shift!.Keys));
        Assert.All(results.Where(r => r.Dataset != "synth_shapes"), r => Assert.Null(r.Shift));
        Assert.Equal(results.Single(r => r is { Dataset: "synth_shift", Shots: 16, Method: "zero-shot" }).TestTop1,
            results.Single(r => r is { Dataset: "synth_shapes", Shots: 16, Method: "zero-shot" }).Shift!["synth_shift"].TestTop1, 9);
        Assert.Contains("## Distribution shift", File.ReadAllText(Temp("out/report/report.md")));
        double Acc(string dataset, int shots, string method) => results.Single(r => r.Dataset == dataset && r.Shots == shots && r.Method == method).TestTop1;
        var chance = new Dictionary<string, double> { ["synth_shapes"] = 10, ["synth_fine"] = 100.0 / 12, ["synth_shift"] = 10 };
        // Zero-shot transfer is real on the tasks drawn in the pretraining style (measured: 53.8% and 63.2%) and near
        // chance on the pencil-outline task (12.2%), which is what the few-shot methods are for.
        Assert.True(Acc("synth_shapes", 1, "zero-shot") > 4 * chance["synth_shapes"], $"zero-shot synth_shapes {Acc("synth_shapes", 1, "zero-shot")}%");
        Assert.True(Acc("synth_fine", 1, "zero-shot") > 4 * chance["synth_fine"], $"zero-shot synth_fine {Acc("synth_fine", 1, "zero-shot")}%");
        foreach (var (dataset, level) in chance)
            foreach (var method in Trained.Append("zero-shot"))
                Assert.True(Acc(dataset, 16, method) > level, $"{method} at 16 shots on {dataset}: {Acc(dataset, 16, method)}% (chance {level:F1}%)");
        // TaskRes is held at the zero-shot classifier by design (a 0.5-scaled residual), and the zero-shot classifier is near
        // chance here: measured 12.4% against zero-shot's 12.2% at 16 shots, seed 1 — a image or two, so not asserted.
        foreach (var method in Trained.Except(["taskres"]))
            Assert.True(Acc("synth_shift", 16, method) > Acc("synth_shift", 16, "zero-shot"),
                $"{method} {Acc("synth_shift", 16, method)}% vs zero-shot {Acc("synth_shift", 16, "zero-shot")}% on synth_shift at 16 shots");

        // Same seed, fresh output folder and tracking, shared cache: bit-identical accuracies and weights.
        (code, _, stderr) = PeftProcess.Run(PeftProcess.HangGuard, "run", Experiment, "--set", $"output={Temp("again")}",
            "--set", $"tracking:uri={Temp("mlruns-again")}", "--set", $"dataRoot={Temp("synth")}", "--set", $"cache={Temp("cache")}",
            "--set", "seeds=[1]", "--set", "shots=[16]", "--no-report");
        Assert.True(code == 0, stderr);
        var again = new LocalResultStore(Temp("again")).ReadAll();
        Assert.Equal(3 * Methods, again.Count); // 3 datasets × every method at 16 shots
        foreach (var r in again)
        {
            var first = results.Single(x => x.CellKey == r.CellKey);
            Assert.Equal(first.TestTop1, r.TestTop1);
            Assert.Equal(first.TestMeanPerClass, r.TestMeanPerClass);
            Assert.Equal(first.ValTop1, r.ValTop1);
        }
        var weights = Directory.GetFiles(Temp("mlruns-again"), TrackingNames.WeightsArtifact, SearchOption.AllDirectories);
        Assert.NotEmpty(weights);
        var firstWeights = Directory.GetFiles(Temp("mlruns"), TrackingNames.WeightsArtifact, SearchOption.AllDirectories)
            .ToDictionary(CellOf, File.ReadAllBytes);
        foreach (var w in weights) Assert.Equal(firstWeights[CellOf(w)], File.ReadAllBytes(w));
    }

    /// <summary>
    /// experiments/quickstart-base-to-new.json, reduced to seed 1 and 16 shots: every cell runs, the terminal and the
    /// report show CoCoOp's Base / New / H, per-class-weight methods are n/a on new classes, and the methods that classify
    /// new classes from their names beat chance on them.
    /// </summary>
    [Fact]
    public void ReducedBaseToNewQuickstartShowsBaseNewAndH()
    {
        var (code, stdout, stderr) = PeftProcess.Run(PeftProcess.HangGuard, "run", Path.Combine(PeftProcess.Repository, "experiments", "quickstart-base-to-new.json"),
            "--set", $"output={Temp("b2n")}", "--set", $"tracking:uri={Temp("b2n-mlruns")}", "--set", $"dataRoot={Temp("synth")}",
            "--set", $"cache={Temp("cache")}", "--set", "seeds=[1]", "--set", "shots=[16]");
        Assert.True(code == 0, stderr);
        Assert.Contains("Base-to-new generalisation, 16 shots: average over 3 datasets", stdout);
        var results = new LocalResultStore(Temp("b2n")).ReadAll();
        Assert.Equal(3 * 9, results.Count);
        string[] open = ["zero-shot", "coop", "cocoop", "kgcoop", "clip-adapter"];
        foreach (var r in results)
        {
            Assert.NotNull(r.New);
            Assert.Equal(open.Contains(r.Method), r.New!.Applicable);
        }
        // New classes: 5 of synth_shapes' 10 (chance 20%), 6 of synth_fine's 12 (chance 16.7%).
        foreach (var method in open)
            foreach (var (dataset, chance) in new[] { ("synth_shapes", 20.0), ("synth_fine", 100.0 / 6) })
            {
                var r = results.Single(x => x.Dataset == dataset && x.Method == method);
                Assert.True(r.New!.TestTop1 > chance, $"{method} on {dataset}'s new classes: {r.New.TestTop1}% (chance {chance:F1}%)");
            }
        var md = File.ReadAllText(Temp("b2n/report/report.md"));
        Assert.Contains("| Method | Base | New | H |", md);
        Assert.Contains("| linear-probe | ", md.Split("## Base-to-new generalisation")[1]);
        Assert.True(File.Exists(Temp("b2n/report/plots/base-to-new-16shots.png")));
    }

    /// <summary>The cell key of the run whose artifact folder holds <paramref name="artifact"/> (from its tags folder).</summary>
    static string CellOf(string artifact)
    {
        var run = Path.GetDirectoryName(Path.GetDirectoryName(artifact))!;
        return File.ReadAllText(Path.Combine(run, "tags", TrackingNames.CellTag));
    }
}
