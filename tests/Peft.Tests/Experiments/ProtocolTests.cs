using Peft.Core.Tracking;
using Peft.Host.Experiments;
using Peft.Host.Plugins;
using Peft.Reporting;
using Peft.Methods.ClipAdapter;
using Peft.Methods.CoOp;
using Peft.Methods.TipAdapter;
using Peft.Methods.ZeroShot;
using Peft.Results;

namespace Peft.Tests.Experiments;

/// <summary>
/// Issue 18 items 2–4: per-method training transforms, per-dataset official presets, and the as-published (oracle)
/// protocol — read from experiment files and seen by methods in a real run.
/// </summary>
public sealed class ProtocolTests(RunnerWorld world) : TempDirectory("peft-protocol-"), IClassFixture<RunnerWorld>
{
    static readonly MethodCatalog Official = MethodCatalog.From(new TipAdapterPlugin(), new CoOpPlugin(), new ClipAdapterPlugin(), new ZeroShotPlugin());

    ExperimentSpec ReadOfficial(string methods, string extra = "")
    {
        Directory.CreateDirectory(Temp("data/e"));
        Directory.CreateDirectory(Temp("data/i"));
        Directory.CreateDirectory(Temp("data/f"));
        File.WriteAllText(Temp("model.safetensors"), "not read by validation");
        File.WriteAllText(Temp("exp.json"), $$"""
            {
              "name": "presets", "backbone": { "model": "model.safetensors" },
              "datasets": [ { "name": "euro", "type": "EuroSAT", "root": "data/e" }, { "type": "imagenet", "root": "data/i" },
                            { "name": "mine", "type": "imagefolder", "root": "data/f" } ],
              "shots": [1], "seeds": [1], {{extra}}
              "methods": {{methods}}
            }
            """);
        return new ExperimentReader(Official) { CurrentDirectory = Dir, DefaultCacheDir = Temp("cache") }
            .Read(ExperimentConfiguration.Load(Temp("exp.json"), [], new Dictionary<string, string>()));
    }

    static string Option(ExperimentSpec spec, string method, string dataset, string option) =>
        Assert.Single(spec.Method(method).PointsFor(dataset)).OptionValues[option];

    [Fact]
    public void EachMethodGetsItsOfficialTransformUnlessTheExperimentForcesOne()
    {
        const string methods = """{ "tip-adapter": {}, "coop": {}, "clip-adapter": {}, "zero-shot": {} }""";
        var spec = ReadOfficial(methods);
        Assert.Equal(("tip", "official"), (spec.AugmentationOf("tip-adapter").Transform.Name, spec.AugmentationOf("tip-adapter").Origin));
        Assert.Equal(("dassl", "official"), (spec.AugmentationOf("coop").Transform.Name, spec.AugmentationOf("coop").Origin));
        Assert.Equal("dassl", spec.AugmentationOf("clip-adapter").Transform.Name);
        Assert.False(spec.AugmentationOf("zero-shot").UsesViews);
        Assert.Equal(0.08, spec.AugmentationOf("coop").Spec(224).ScaleMin);
        Assert.Equal(0.5, spec.AugmentationOf("tip-adapter").Spec(224).ScaleMin);

        var forced = ReadOfficial(methods, "\"augmentation\": \"tip\",");
        Assert.All(new[] { "tip-adapter", "coop", "clip-adapter" }, m => Assert.Equal("tip (experiment)", forced.AugmentationOf(m).ToString()));
        var perMethod = ReadOfficial(methods, "\"augmentation\": { \"coop\": \"tip\" },");
        Assert.Equal("tip (experiment)", perMethod.AugmentationOf("coop").ToString());
        Assert.Equal("dassl (official)", perMethod.AugmentationOf("clip-adapter").ToString());

        var bad = Assert.Throws<ExperimentValidationException>(() => ReadOfficial(methods, "\"augmentation\": { \"coop\": \"strong\", \"linear\": \"tip\" },"));
        Assert.Contains(bad.Problems, p => p.StartsWith("augmentation:coop: 'strong' is not one of: official, tip, dassl"));
        Assert.Contains(bad.Problems, p => p.StartsWith("augmentation:linear: 'linear' is not a method of this experiment"));
        Assert.Contains(Assert.Throws<ExperimentValidationException>(() => ReadOfficial(methods, "\"augmentation\": \"strong\",")).Problems,
            p => p.StartsWith("augmentation: 'strong' is not one of"));
    }

    [Fact]
    public void OfficialPerDatasetPresetsApplyToCoopDatasetsAndExplicitOptionsOverrideThem()
    {
        var spec = ReadOfficial("""{ "tip-adapter-f": { "learningRate": 0.002 }, "tip-adapter": {}, "coop": {} }""");
        // configs/eurosat.yaml: init_alpha 2, search_scale [12, 10], train_epoch 100.
        Assert.Equal(("2", "[12, 10]", "100"), (Option(spec, "tip-adapter-f", "euro", "initAlpha"), Option(spec, "tip-adapter-f", "euro", "searchScale"),
            Option(spec, "tip-adapter-f", "euro", "epochs")));
        Assert.Equal("0.002", Option(spec, "tip-adapter-f", "euro", "learningRate"));    // the experiment's value wins
        Assert.Contains("configs/eurosat.yaml", spec.Method("tip-adapter-f").PresetsFor("euro"));
        Assert.Contains("experiment overrides: learningRate", spec.Method("tip-adapter-f").PresetsFor("euro"));
        // ImageNet: the 7-template ensemble for Tip-Adapter, 50 epochs at every shot count for CoOp (COOP.md).
        Assert.Equal("ensemble7", Option(spec, "tip-adapter", "imagenet", "templates"));
        Assert.Equal("50", Option(spec, "coop", "imagenet", "epochs"));
        Assert.Equal("none", Option(spec, "coop", "euro", "epochs"));                     // by shots elsewhere
        // A dataset outside the 11 keeps the generic defaults.
        Assert.Equal(("1.17", "[7, 3]", "dataset"), (Option(spec, "tip-adapter", "mine", "initAlpha"), Option(spec, "tip-adapter", "mine", "searchScale"),
            Option(spec, "tip-adapter", "mine", "templates")));
        Assert.Equal("none", spec.Method("tip-adapter").PresetsFor("mine"));
        var overridden = ReadOfficial("""{ "tip-adapter-f": { "epochs": 7, "searchScale": [3, 2] } }""");
        Assert.Equal(("7", "[3, 2]"), (Option(overridden, "tip-adapter-f", "euro", "epochs"), Option(overridden, "tip-adapter-f", "euro", "searchScale")));
    }

    [Fact]
    public void OracleOptionsNeedTheAsPublishedProtocolWhichAppliesTheOfficialSelectionRules()
    {
        var e = Assert.Throws<ExperimentValidationException>(() => ReadOfficial("""{ "tip-adapter-f": { "select": "best-test" } }"""));
        Assert.Contains(e.Problems, p => p.StartsWith("methods:tip-adapter-f: these options select on test") && p.Contains("as-published"));
        Assert.Contains(Assert.Throws<ExperimentValidationException>(() => ReadOfficial("""{ "zero-shot": {} }""", "\"protocol\": \"oracle\",")).Problems,
            p => p.StartsWith("protocol: 'oracle' is not one of: few-shot, as-published"));

        var spec = ReadOfficial("""{ "tip-adapter": {}, "tip-adapter-f": {}, "coop": {} }""", "\"protocol\": \"as-published\",");
        Assert.True(spec.IsAsPublished);
        Assert.Equal("full-val", Option(spec, "tip-adapter", "euro", "searchOn"));
        Assert.Equal("test", Option(spec, "tip-adapter", "imagenet", "searchOn"));
        Assert.Equal(("best-test", "true", "100"), (Option(spec, "tip-adapter-f", "euro", "select"), Option(spec, "tip-adapter-f", "euro", "maxBestFinal"),
            Option(spec, "tip-adapter-f", "euro", "epochs")));
        Assert.Equal(("test", "false"), (Option(spec, "tip-adapter-f", "imagenet", "searchOn"), Option(spec, "tip-adapter-f", "imagenet", "maxBestFinal")));
        Assert.Equal("full-val", Option(spec, "tip-adapter", "mine", "searchOn"));
        Assert.Equal("last", Option(spec, "coop", "euro", "select"));                      // CoOp's official rule is last-step already
    }

    ExperimentSpec Run(string methods, string extra, InMemoryTracker tracker, string folder)
    {
        var spec = new ExperimentReader(MethodCatalog.From(new ProbeMethods(), new ZeroShotPlugin())) { CurrentDirectory = Dir }
            .Read(ExperimentConfiguration.Load(world.Experiment(Temp(folder), methods, extra), [], new Dictionary<string, string>()));
        var summary = new ExperimentRunner(spec, tracker) { Log = TextWriter.Null }.Run();
        Assert.Equal(0, summary.ExitCode);
        return spec;
    }

    static InMemoryTracker.Run Cell(InMemoryTracker tracker, string key) => tracker.CellRuns(key).Single(r => r.Status == RunStatus.Finished);

    [Fact]
    public void TheHostServesEachMethodTheViewsOfItsOwnTransformAndLogsIt()
    {
        ProbeMethods.Observed.Clear();
        var tracker = new InMemoryTracker();
        Run("""{ "probe": {}, "probe-tip": {} }""", "", tracker, "official");
        var dassl = ProbeMethods.Observed["shapes/2/probe"];
        var tip = ProbeMethods.Observed["shapes/2/probe-tip"];
        Assert.Equal(dassl.ViewsShape, tip.ViewsShape);
        Assert.NotEqual(dassl.ViewsMean, tip.ViewsMean);
        var run = Cell(tracker, "shapes/2/1/probe");
        Assert.Equal("dassl (official)", run.Params["augmentation"]);
        Assert.Contains("s=0.08-1", run.Params["augmentation_spec"]);
        Assert.Equal("tip (official)", Cell(tracker, "shapes/2/1/probe-tip").Params["augmentation"]);
        Assert.NotEqual(run.Tags["peft.feature_cache_key"], Cell(tracker, "shapes/2/1/probe-tip").Tags["peft.feature_cache_key"]);

        // Forced for all: both read the same cached views.
        ProbeMethods.Observed.Clear();
        var forced = new InMemoryTracker();
        Run("""{ "probe": {}, "probe-tip": {} }""", "\"augmentation\": \"tip\",", forced, "forced");
        Assert.Equal(tip.ViewsMean, ProbeMethods.Observed["shapes/2/probe"].ViewsMean);
        Assert.Equal(tip.ViewsMean, ProbeMethods.Observed["shapes/2/probe-tip"].ViewsMean);
        Assert.Equal("tip (experiment)", Cell(forced, "shapes/2/1/probe").Params["augmentation"]);
    }

    [Fact]
    public void WithTheSwitchOffNoMethodCanReachTestFeatures()
    {
        ProbeMethods.Observed.Clear();
        var tracker = new InMemoryTracker();
        Run("""{ "probe": {} }""", "", tracker, "off");
        Assert.NotEmpty(ProbeMethods.Observed);
        foreach (var seen in ProbeMethods.Observed.Values)
        {
            Assert.False(seen.HadOracle);
            // The features object a method holds has the ITaskFeatures members only: nothing test-related.
            Assert.DoesNotContain(seen.FeatureMembers, m => m.Contains("Test", StringComparison.OrdinalIgnoreCase) || m.Contains("FullVal", StringComparison.OrdinalIgnoreCase));
        }
        foreach (var run in tracker.Runs.Where(r => r.Tags.GetValueOrDefault("peft.role") == "cell"))
        {
            Assert.Equal("few-shot", run.Tags["peft.protocol"]);
            Assert.False(run.Tags.ContainsKey("peft.oracle"));
        }
        // Options that would read test data are refused before anything runs.
        var e = Assert.Throws<ExperimentValidationException>(() => Run("""{ "probe": { "readTest": true } }""", "", new InMemoryTracker(), "refused"));
        Assert.Contains(e.Problems, p => p.Contains("as-published"));
    }

    [Fact]
    public void WithTheSwitchOnOracleCellsAreTaggedAndMarkedInEveryReport()
    {
        ProbeMethods.Observed.Clear();
        var tracker = new InMemoryTracker();
        var spec = Run("""{ "probe": { "readTest": true }, "zero-shot": {} }""", "\"protocol\": \"as-published\",", tracker, "on");
        Assert.All(ProbeMethods.Observed.Values, s => Assert.True(s.HadOracle));
        var probe = Cell(tracker, "shapes/1/1/probe");
        Assert.Equal(("as-published", "true"), (probe.Tags["peft.protocol"], probe.Tags["peft.oracle"]));
        var zeroShot = Cell(tracker, "shapes/1/1/zero-shot");
        Assert.Equal("as-published", zeroShot.Tags["peft.protocol"]);
        Assert.False(zeroShot.Tags.ContainsKey("peft.oracle"));    // it never read the oracle data
        Assert.Equal("as-published", tracker.Runs.Single(r => r.Tags["peft.role"] == "parent").Tags["peft.protocol"]);

        var results = new LocalResultStore(spec.OutputDir).ReadAll().ToList();
        Assert.All(results, r => Assert.Equal(r.Method == "probe", r.Oracle));
        var files = ReportWriter.Write(results, new ReportOptions(Temp("report")) { Title = "as-published" });
        var md = File.ReadAllText(files.Markdown);
        Assert.Contains("probe†", md);
        Assert.Contains(ExperimentProtocol.OracleNote, md);
        Assert.Contains("probe†", File.ReadAllText(files.Html));
        var csv = File.ReadAllLines(files.ResultsCsv);
        // oracle, then shift, new_test_top1 and transfer (empty: no targets, all classes here)
        Assert.All(csv.Skip(1), line => Assert.EndsWith(line.Contains("probe†") ? ",true,,," : ",false,,,", line));
        var terminal = TerminalTable.Render(results, new ReportOptions(Temp("report")) { Title = "t" });
        Assert.Contains("probe†", terminal);
        Assert.Contains(ExperimentProtocol.OracleNote, terminal);
    }
}
