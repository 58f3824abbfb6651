using System.Text.Json;
using Peft.Core.Tracking;
using Peft.Data.Datasets;
using Peft.Host.Experiments;
using Peft.Host.Plugins;
using Peft.Reporting;
using Peft.Methods.ZeroShot;
using Peft.Results;

namespace Peft.Tests.Experiments;

/// <summary>
/// Base-to-new (<c>classes: base-to-new</c>) and cross-dataset transfer (<c>datasets:i:transfer</c>) on the synthetic
/// world. The two are checked against each other through two test-only copies of synth_shapes: one with the base half
/// of its classes, one with the new half (relabelled, same images). Zero-shot CLIP's base and new accuracies under
/// base-to-new must equal its transfer accuracies on those copies — different code paths (class subsets of the cell's
/// features vs other datasets read, encoded and classified from their names) that must agree exactly.
/// </summary>
public sealed class GeneralizationProtocolTests(RunnerWorld world) : TempDirectory("peft-generalization-"), IClassFixture<RunnerWorld>
{
    const string Methods = """{ "zero-shot": {}, "fake": {} }""";

    ExperimentSpec Read(string folder, params string[] sets) =>
        new ExperimentReader(MethodCatalog.From(new FakeMethods(), new ZeroShotPlugin())) { CurrentDirectory = Dir }
            .Read(ExperimentConfiguration.Load(world.Experiment(Temp(folder), Methods), sets, new Dictionary<string, string>()));

    /// <summary>A test-only coop_layout copy of synth_shapes holding the classes from..from+count, relabelled from 0.</summary>
    string Half(string name, int from, int count)
    {
        var source = new CoopLayoutReader().Read(Path.Combine(world.Dir, "world", "synth_shapes"));
        var dir = Directory.CreateDirectory(Temp(name)).FullName;
        Directory.CreateSymbolicLink(Path.Combine(dir, "images"), source.ImageRoot);
        var test = source.Test.Where(i => i.Label >= from && i.Label < from + count).Select(i => new object[] { i.ImagePath, i.Label - from, i.ClassName });
        File.WriteAllText(Path.Combine(dir, "split.json"), JsonSerializer.Serialize(new { train = Array.Empty<object>(), val = Array.Empty<object>(), test }));
        File.WriteAllText(Path.Combine(dir, "dataset.json"), JsonSerializer.Serialize(new
        {
            name, classnames = source.ClassNames.Skip(from).Take(count), templates = source.Templates,
        }));
        return dir;
    }

    [Fact]
    public void Base_and_new_accuracies_equal_transfer_to_the_two_halves_and_reach_mlflow_and_the_report()
    {
        var mlruns = Temp("b2n-mlruns");
        var baseToNew = Read("b2n", "classes=base-to-new");
        Assert.True(baseToNew.IsBaseToNew);
        using (var tracker = new Peft.Tracking.Mlruns.FileStoreTracker(mlruns))
            Assert.Equal(0, new ExperimentRunner(baseToNew, tracker) { Log = TextWriter.Null }.Run().ExitCode);
        var transfer = Read("transfer",
            "datasets:0:transfer:0:name=shapes-base", "datasets:0:transfer:0:type=coop_layout", $"datasets:0:transfer:0:root={Half("shapes-base", 0, 5)}",
            "datasets:0:transfer:1:name=shapes-new", "datasets:0:transfer:1:type=coop_layout", $"datasets:0:transfer:1:root={Half("shapes-new", 5, 5)}");
        var transferTracker = new InMemoryTracker();
        Assert.Equal(0, new ExperimentRunner(transfer, transferTracker) { Log = TextWriter.Null }.Run().ExitCode);

        var b2n = ResultCheck.Of(new LocalResultStore(baseToNew.OutputDir), new ExperimentPlan(baseToNew).Cells).Results;
        var xd = ResultCheck.Of(new LocalResultStore(transfer.OutputDir), new ExperimentPlan(transfer).Cells).Results;
        Assert.Equal(8, b2n.Count);
        foreach (var shots in new[] { 1, 2 })
        {
            var zs = b2n.Single(r => r.Dataset == "shapes" && r.Shots == shots && r.Method == "zero-shot");
            var zsTransfer = xd.Single(r => r.Dataset == "shapes" && r.Shots == shots && r.Method == "zero-shot").Transfer!;
            Assert.Equal(zsTransfer["shapes-base"].TestTop1!.Value, zs.TestTop1, 9);
            Assert.Equal(zsTransfer["shapes-new"].TestTop1!.Value, zs.New!.TestTop1!.Value, 9);
            Assert.Equal(zsTransfer["shapes-new"].TestMeanPerClass!.Value, zs.New.TestMeanPerClass!.Value, 9);
            // The fake method keeps per-class training features: not applicable on unseen classes, never 0.
            var fake = b2n.Single(r => r.Dataset == "shapes" && r.Shots == shots && r.Method == "fake");
            Assert.False(fake.New!.Applicable);
            Assert.All(xd.Single(r => r.Dataset == "shapes" && r.Shots == shots && r.Method == "fake").Transfer!.Values, a => Assert.False(a.Applicable));
        }
        Assert.All(xd.Where(r => r.Dataset == "fine"), r => Assert.Null(r.Transfer));
        Assert.All(xd, r => Assert.Null(r.New));

        // The fake method trained on the five base classes only: its per-class artifact lists them.
        var fakeRun = transferTracker.Runs.Single(r => r.Tags.GetValueOrDefault("peft.cell") == "shapes/1/1/fake");
        Assert.Equal("transfer/shapes-base,transfer/shapes-new", fakeRun.Tags[ExperimentClasses.NotApplicableTag]);
        Assert.Contains(fakeRun.Metrics, m => m.Key == "test_top1");
        var zsRun = transferTracker.Runs.Single(r => r.Tags.GetValueOrDefault("peft.cell") == "shapes/1/1/zero-shot");
        Assert.Contains(zsRun.Metrics, m => m.Key == "transfer/shapes-new/test_top1");

        // Resume: results deleted locally are rebuilt from their FINISHED runs (new/… metrics and the n/a tag read back).
        var store = new LocalResultStore(baseToNew.OutputDir);
        foreach (var key in new[] { "shapes/2/1/zero-shot", "shapes/2/1/fake" }) File.Delete(store.ResultPath(key));
        using (var tracker = new Peft.Tracking.Mlruns.FileStoreTracker(mlruns))
            Assert.Equal((0, 8), new ExperimentRunner(baseToNew, tracker) { Log = TextWriter.Null }.Run() is var again ? (again.Ran, again.Skipped) : default);
        foreach (var key in new[] { "shapes/2/1/zero-shot", "shapes/2/1/fake" })
        {
            var restored = store.TryReadResult(key)!;
            Assert.True(restored.IsIntact);
            Assert.Equal(b2n.Single(r => r.CellKey == key).New, restored.Result.New);
        }

        // MLflow has it all: read back from the mlruns folder, the same values (n/a included).
        var loaded = MlrunsResults.Read(mlruns, null).Results;
        Assert.Equal(b2n.Select(r => (r.CellKey, r.TestTop1, r.New!.TestTop1)).Order(), loaded.Select(r => (r.CellKey, r.TestTop1, r.New!.TestTop1)).Order());
        var perClass = Directory.GetFiles(mlruns, "per_class_accuracy.json", SearchOption.AllDirectories);
        Assert.NotEmpty(perClass);
        foreach (var f in perClass)
        {
            var dataset = File.ReadAllText(Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(f))!, "params", "dataset")).Trim();
            int classes = new CoopLayoutReader().Read(Path.Combine(world.Dir, "world", dataset == "shapes" ? "synth_shapes" : "synth_fine")).ClassNames.Count;
            Assert.Equal((classes + 1) / 2, JsonDocument.Parse(File.ReadAllText(f)).RootElement.GetArrayLength());
        }

        // The report: CoCoOp's Base / New / H, with n/a for the fake method; the transfer table in its own section.
        var b2nFiles = ReportWriter.Write(b2n, new ReportOptions(Temp("report")) { Title = "b2n" });
        var xdFiles = ReportWriter.Write(xd, new ReportOptions(Temp("report-xd")) { Title = "xd" });
        var md = File.ReadAllText(b2nFiles.Markdown);
        var xdMd = File.ReadAllText(xdFiles.Markdown);
        // Bar plots next to the tables: Base / New / H per shots value; source and target average per source and shots.
        Assert.Equal(["base-to-new-1shots.png", "base-to-new-2shots.png"], b2nFiles.Plots.Select(Path.GetFileName).Where(f => f!.StartsWith("base-to-new")).Order());
        Assert.Contains("](plots/base-to-new-2shots.png)", md.Split("## Base-to-new generalisation")[1]);
        Assert.Contains(xdFiles.Plots, f => Path.GetFileName(f) == "transfer-shapes-2shots.png");
        Assert.Contains("](plots/transfer-shapes-2shots.png)", xdMd.Split("## Cross-dataset transfer")[1]);
        Assert.DoesNotContain("base-to-new", xdMd.Split("## Cross-dataset transfer")[0].Split("## Comparison")[0].Replace("## Base-to-new", ""));
        Assert.Contains("## Base-to-new generalisation", md);
        Assert.Contains("| Method | Base | New | H |", md);
        Assert.Contains("| fake | ", md);
        Assert.Contains("n/a", md);
        Assert.DoesNotContain("## Cross-dataset transfer", md);
        Assert.Contains("## Cross-dataset transfer", xdMd);
        Assert.DoesNotContain("## Base-to-new", xdMd);
        Assert.Contains("| Method | shapes (source) | shapes-base | shapes-new | target average |", xdMd);
        Assert.Contains("| fake | ", xdMd.Split("## Cross-dataset transfer")[1]);
        var zs16 = b2n.Where(r => r.Dataset == "shapes" && r.Shots == 2 && r.Method == "zero-shot").Single();
        Assert.Contains($"| zero-shot | **{zs16.TestTop1:F2}**", md.Split("Base-to-new generalisation, 2 shots: shapes")[1]);
        var terminal = TerminalTable.RenderProtocols(ExperimentSummary.Build(b2n, new ReportOptions(Temp("t"))));
        Assert.Contains("Base-to-new generalisation, 1 shot: average over 2 datasets", terminal);
        Assert.DoesNotContain("1 shot: shapes", terminal);
    }

    [Fact]
    public void Harmonic_mean_is_of_the_mean_accuracies()
    {
        Assert.Equal(75.83, Peft.Reporting.Tables.GeneralizationTables.HarmonicMean(80.47, 71.69), 2); // CoCoOp, table 1 average
        Assert.Equal(0, Peft.Reporting.Tables.GeneralizationTables.HarmonicMean(0, 0));
    }

    [Fact]
    public void Results_of_the_other_class_setting_are_refused_not_mixed()
    {
        var all = Read("mixed");
        Assert.Equal(0, new ExperimentRunner(all, new InMemoryTracker()) { Log = TextWriter.Null }.Run().ExitCode);
        var b2n = Read("mixed", "classes=base-to-new");
        var e = Assert.Throws<InvalidOperationException>(() => new ExperimentRunner(b2n, new InMemoryTracker()) { Log = TextWriter.Null }.Run());
        Assert.Contains("classes: all", e.Message);
        Assert.Contains("another output folder", e.Message);
    }

    [Fact]
    public void Settings_are_validated_with_their_paths()
    {
        var e = Assert.Throws<ExperimentValidationException>(() => Read("bad", "classes=half"));
        Assert.Contains("classes: 'half' is not one of: all, base-to-new", e.Message);
        string shift = Path.Combine(world.Dir, "world", "synth_shift");
        e = Assert.Throws<ExperimentValidationException>(() => Read("bad2", "classes=base-to-new",
            "datasets:0:targets:0:type=coop_layout", $"datasets:0:targets:0:root={shift}"));
        Assert.Contains("shift targets", e.Message);
        e = Assert.Throws<ExperimentValidationException>(() => Read("bad3", "datasets:0:transfer:0:type=coop_layout", $"datasets:0:transfer:0:root={shift}",
            "datasets:0:transfer:0:name=a/b"));
        Assert.Contains("datasets:0:transfer:0:name", e.Message);
    }
}
