using Peft.Host.Experiments;
using Peft.Host.Plugins;
using Peft.Methods.LinearProbe;
using Peft.Methods.ZeroShot;

namespace Peft.Tests.Experiments;

public sealed class ExperimentConfigurationTests : TempDirectory
{
    static readonly Dictionary<string, string> NoEnvironment = [];
    readonly MethodCatalog _catalog = MethodCatalog.From(new FakeMethods(), new ZeroShotPlugin(), new LinearProbePlugin());

    public ExperimentConfigurationTests() : base("peft-expconfig-")
    {
        Directory.CreateDirectory(Temp("data/a"));
        Directory.CreateDirectory(Temp("data/b"));
        File.WriteAllText(Temp("model.safetensors"), "not read by validation");
    }

    string Write(string json, string name = "exp.json")
    {
        File.WriteAllText(Temp(name), json);
        return Temp(name);
    }

    const string Valid = """
        {
          // comments are allowed
          "name": "demo",
          "backbone": { "model": "model.safetensors" },
          "datasets": [ { "name": "a", "type": "imagefolder", "root": "data/a" }, { "type": "coop_layout", "root": "data/b" } ],
          "shots": [1, 4],
          "seeds": [1, 2, 3],
          "methods": { "zero-shot": {}, "fake": { "correctClasses": [2, 8, 5], "widths": [3, 4] } }
        }
        """;

    ExperimentReader Reader => new(_catalog) { CurrentDirectory = Temp("cwd"), DefaultCacheDir = Temp("cache") };

    ExperimentSpec Read(string path, string[]? sets = null, Dictionary<string, string>? env = null) =>
        Reader.Read(ExperimentConfiguration.Load(path, sets, env ?? NoEnvironment));

    [Fact]
    public void ReadsTheFileWithDefaultsAndPathsRelativeToIt()
    {
        var spec = Read(Write(Valid));
        Assert.Equal("demo", spec.Name);
        Assert.Equal(Temp("model.safetensors"), spec.Backbone.Model);
        Assert.Equal(("fp32", "clip"), (spec.Backbone.Dtype, spec.Backbone.Preprocess));
        Assert.Equal(["a", "coop_layout"], spec.Datasets.Select(d => d.Name));
        Assert.Equal(Temp("data/b"), spec.Datasets[1].Root);
        Assert.Equal([1, 4], spec.Shots);
        Assert.Equal([1, 2, 3], spec.Seeds);
        Assert.Equal(["fake", "zero-shot"], spec.Methods.Select(m => m.Name));
        Assert.Equal((10, "official", "dassl", (int?)null), (spec.TrainViews, spec.Augmentation, spec.Sampling, spec.ValShots));
        Assert.Equal("few-shot", spec.Protocol);
        // Defaults of the output, tracking and cache folders: the current directory and PEFT_HOME.
        Assert.Equal(Path.Combine(Temp("cwd"), "runs", "demo"), spec.OutputDir);
        Assert.Equal(Path.Combine(Temp("cwd"), "mlruns"), spec.Tracking.Uri);
        Assert.Equal("demo", spec.Tracking.ExperimentName);
        Assert.Equal(Temp("cache"), spec.CacheDir);
    }

    [Fact]
    public void AnArrayForAScalarOptionIsAGridAndAListOptionTakesItsArrayAsOneValue()
    {
        var fake = Read(Write(Valid)).Method("fake");
        Assert.Equal(["2", "8", "5"], fake.Points.Select(p => p.AxisValues["correctClasses"]));
        Assert.All(fake.Points, p => Assert.Equal("[3, 4]", p.OptionValues["widths"]));
        Assert.Equal([2, 8, 5], fake.Points.Select(p => ((FakeOptions)p.Options).CorrectClasses));

        // An array of arrays for a list option is a grid of lists; two axes make their product, first axis slowest.
        var grid = Read(Write(Valid.Replace("\"widths\": [3, 4]", "\"widths\": [[1], [2, 3]]"))).Method("fake");
        Assert.Equal(["2|[1]", "2|[2, 3]", "8|[1]", "8|[2, 3]", "5|[1]", "5|[2, 3]"],
            grid.Points.Select(p => $"{p.AxisValues["correctClasses"]}|{p.AxisValues["widths"]}"));
    }

    [Fact]
    public void OverridesApplyInOrderFileThenEnvironmentThenSet()
    {
        var path = Write(Valid);
        var env = new Dictionary<string, string>
        {
            ["PEFT_methods__fake__correctClasses"] = "7", ["PEFT_shots__0"] = "2", ["MLFLOW_TRACKING_URI"] = "http://mlflow:5000",
            ["PEFT_HOME"] = "/not/an/experiment/key", ["PEFT_output"] = "out",
        };
        var spec = Read(path, ["methods:fake:correctClasses=9", "seeds=[5, 6]", "trainViews=4"], env);
        Assert.Equal(["9"], spec.Method("fake").Points.Select(p => p.OptionValues["correctClasses"])); // --set beats env, replaces the file's grid
        Assert.Equal([2, 4], spec.Shots);   // env replaced one element
        Assert.Equal([5, 6], spec.Seeds);   // a JSON list replaces the whole list
        Assert.Equal(4, spec.TrainViews);
        Assert.Equal("http://mlflow:5000", spec.Tracking.Uri);
        Assert.Equal(Path.Combine(Temp("cwd"), "out"), spec.OutputDir); // override paths resolve against the current directory

        var fromEnv = Read(path, [], env);
        Assert.Equal(["7"], fromEnv.Method("fake").Points.Select(p => p.OptionValues["correctClasses"]));
    }

    [Fact]
    public void AMethodSetToNothingIsDroppedAndAnUnknownOneIsNamed()
    {
        var path = Write(Valid);
        var spec = Read(path, ["methods:fake="]);
        Assert.Equal(["zero-shot"], spec.Methods.Select(m => m.Name));
        Assert.Equal(["fake"], Read(path, ["methods:Zero-Shot= "]).Methods.Select(m => m.Name));
        var e = Assert.Throws<ArgumentException>(() => Read(path, ["methods:coop="]));
        Assert.Contains("--set methods:coop=: the experiment has no method 'coop' to drop; its methods: zero-shot, fake", e.Message);
        // From the environment too.
        Assert.Equal(["zero-shot"], Read(path, [], new Dictionary<string, string> { ["PEFT_methods__fake"] = "" }).Methods.Select(m => m.Name));
    }

    [Fact]
    public void AVariantRunsAnInstalledMethodUnderItsOwnNameWithItsOwnOptions()
    {
        var spec = Read(Write(Valid.Replace("\"zero-shot\": {}", """
            "zero-shot": {}, "fake-5": { "method": "fake", "correctClasses": 5 }, "zs-ensemble": { "METHOD": "Zero-Shot", "templates": "ensemble7" }
            """)));
        Assert.Equal(["fake", "fake-5", "zero-shot", "zs-ensemble"], spec.Methods.Select(m => m.Name));
        var variant = spec.Method("fake-5");
        Assert.Equal("fake", variant.Descriptor.Name);
        Assert.Equal([5], variant.Points.Select(p => ((FakeOptions)p.Options).CorrectClasses));
        Assert.DoesNotContain("method", variant.Points[0].OptionValues.Keys, StringComparer.OrdinalIgnoreCase);
        Assert.Equal([2, 8, 5], spec.Method("fake").Points.Select(p => ((FakeOptions)p.Options).CorrectClasses));
        Assert.Equal("zero-shot", spec.Method("zs-ensemble").Descriptor.Name);
        // A variant is a method of the experiment for every per-method setting, e.g. its training transform.
        var forced = Read(Write(Valid.Replace("\"zero-shot\": {}", "\"zero-shot\": {}, \"fake-5\": { \"method\": \"fake\" }")
            .Replace("\"shots\"", "\"augmentation\": { \"fake-5\": \"tip\" }, \"shots\"")));
        Assert.Equal("experiment", forced.AugmentationOf("fake-5").Origin);
        Assert.NotEqual("experiment", forced.AugmentationOf("fake").Origin);
    }

    [Fact]
    public void TheAblationViewIsOptInForMethodsWithAGrid()
    {
        Assert.Empty(Read(Write(Valid)).Ablation);
        Assert.Equal(["fake"], Read(Write(Valid.Replace("\"shots\"", "\"ablation\": true, \"shots\""))).Ablation);
        Assert.Equal(["fake"], Read(Write(Valid.Replace("\"shots\"", "\"ablation\": [\"fake\"], \"shots\""))).Ablation);
        Assert.Empty(Read(Write(Valid.Replace("\"shots\"", "\"ablation\": false, \"shots\""))).Ablation);
        var e = Assert.Throws<ExperimentValidationException>(() => Read(Write(Valid.Replace("\"shots\"", "\"ablation\": [\"zero-shot\", \"coop\"], \"shots\""))));
        Assert.Equal(["ablation:0: zero-shot has no grid (give an option a list of values) to show every point of",
                      "ablation:1: 'coop' is not a method of this experiment; methods: fake, zero-shot"], e.Problems);
        var flag = Assert.Throws<ExperimentValidationException>(() => Read(Write(Valid.Replace("\"shots\"", "\"ablation\": \"yes\", \"shots\""))));
        Assert.Equal(["ablation: must be true, false or a list of methods with a grid, got 'yes'"], flag.Problems);
    }

    [Fact]
    public void ShiftTargetsAreDatasetsOfTheirSourceWithNamesOfTheirOwn()
    {
        var spec = Read(Write(Valid.Replace("{ \"name\": \"a\", \"type\": \"imagefolder\", \"root\": \"data/a\" }",
            "{ \"name\": \"a\", \"type\": \"imagefolder\", \"root\": \"data/a\", \"targets\": [ { \"name\": \"a-v2\", \"type\": \"imagefolder\", \"root\": \"data/b\" } ] }")));
        Assert.Equal([("a-v2", "imagefolder", Temp("data/b"))], spec.Datasets[0].Targets.Select(t => (t.Name, t.Type, t.Root)));
        Assert.Empty(spec.Datasets[1].Targets);
        Assert.Equal(["a", "coop_layout"], spec.Datasets.Select(d => d.Name)); // targets get no cells
        // A dataset of the experiment can also be a target (same type and folder): synth_shapes → synth_shift in the quickstart.
        var both = Read(Write(Valid.Replace("\"type\": \"coop_layout\", \"root\": \"data/b\" }",
            "\"type\": \"coop_layout\", \"root\": \"data/b\", \"targets\": [ { \"type\": \"imagefolder\", \"name\": \"a\", \"root\": \"data/a\" } ] }")));
        Assert.Equal(["a"], both.Datasets[1].Targets.Select(t => t.Name));

        var e = Assert.Throws<ExperimentValidationException>(() => Read(Write(Valid.Replace("{ \"name\": \"a\", \"type\": \"imagefolder\", \"root\": \"data/a\" }",
            """
            { "name": "a", "type": "imagefolder", "root": "data/a", "targets": [ { "type": "pets2" }, { "name": "coop_layout", "type": "imagefolder", "root": "data/b" }, { "name": "a-again", "type": "imagefolder", "root": "data/a" }, { "name": "a-again", "type": "imagefolder", "root": "data/a" },
              { "name": "a+b", "type": "imagefolder", "root": "data/b" }, { "name": "t", "type": "imagefolder", "root": "data/b", "split": 1 } ] }
            """))));
        var expected = new[]
        {
            "datasets:0:targets:0:type: unknown dataset type 'pets2'",
            $"datasets:0:targets:1:name: 'coop_layout' names another dataset of this experiment (coop_layout at {Temp("data/b")})",
            "datasets:0:targets:3:name: 'a-again' is used by an earlier dataset",
            "datasets:0:targets:4:name: 'a+b': a shift target's name is part of MLflow metric keys",
            "datasets:0:targets:5:split: unknown setting; valid: name, type, root",
        };
        foreach (var problem in expected) Assert.Contains(e.Problems, p => p.StartsWith(problem, StringComparison.Ordinal));
        Assert.Equal(expected.Length, e.Problems.Count);
    }

    [Fact]
    public void TheShippedImageNetShiftExperimentLacksOnlyTheDownloads()
    {
        // Every key, method and target type of experiments/imagenet-shift.json is valid: reading it here fails only on the
        // checkpoint and the data a user downloads.
        var path = Path.Combine(Peft.Tests.Cli.PeftProcess.Repository, "experiments", "imagenet-shift.json");
        var reader = new ExperimentReader(MethodCatalog.Load()) { CurrentDirectory = Temp("cwd"), DefaultCacheDir = Temp("cache") };
        var e = Assert.Throws<ExperimentValidationException>(() => reader.Read(ExperimentConfiguration.Load(path, [], NoEnvironment)));
        Assert.All(e.Problems, p => Assert.True(p.StartsWith("backbone:model: file not found", StringComparison.Ordinal)
                                                || p.StartsWith("dataRoot: folder not found", StringComparison.Ordinal), p));
        var spec = reader.Read(ExperimentConfiguration.Load(path, ["backbone:model=" + Temp("model.safetensors"), "dataRoot=" + Temp("data")], NoEnvironment));
        Assert.Equal(["imagenetv2", "imagenet_sketch", "imagenet_a", "imagenet_r"], spec.Datasets.Single().Targets.Select(t => t.Name));
        Assert.Equal(13, spec.Methods.Count);
    }

    [Theory]
    [InlineData("encoder-peft.json", 8, "all")]
    [InlineData("encoder-base-to-new.json", 7, "base-to-new")]
    public void TheShippedEncoderExperimentsLackOnlyTheDownloads(string file, int methods, string classes)
    {
        var path = Path.Combine(Peft.Tests.Cli.PeftProcess.Repository, "experiments", file);
        var reader = new ExperimentReader(MethodCatalog.Load()) { CurrentDirectory = Temp("cwd"), DefaultCacheDir = Temp("cache") };
        var e = Assert.Throws<ExperimentValidationException>(() => reader.Read(ExperimentConfiguration.Load(path, [], NoEnvironment)));
        Assert.All(e.Problems, p => Assert.True(p.StartsWith("backbone:model: file not found", StringComparison.Ordinal)
                                                || p.StartsWith("dataRoot: folder not found", StringComparison.Ordinal), p));
        var spec = reader.Read(ExperimentConfiguration.Load(path, ["backbone:model=" + Temp("model.safetensors"), "dataRoot=" + Temp("data")], NoEnvironment));
        Assert.Equal(["bitfit", "clip-lora", "maple", "vpt"], spec.Methods.Where(m => m.Descriptor.IsEncoderMethod).Select(m => m.Name));
        Assert.Equal(methods, spec.Methods.Count);
        Assert.Equal(classes, spec.Classes);
    }

    [Fact]
    public void ABadVariantIsNamedWithItsPath()
    {
        var path = Write(Valid.Replace("\"zero-shot\": {}", """
            "zero-shot": {},
            "v1": { "method": "nope" },
            "linear-probe": { "method": "fake" },
            "Big V": { "method": "fake" },
            "v2": { "method": { "name": "fake" } },
            "v3": { "method": "fake", "colour": 1 },
            "v4": { "method": "fake", "correctClasses": -1 }
            """));
        var e = Assert.Throws<ExperimentValidationException>(() => Read(path));
        var expected = new[]
        {
            "methods:v1:method: unknown method 'nope'; installed: cancels, fails, fake, linear-probe, zero-shot",
            "methods:linear-probe: variant name 'linear-probe' is the name of installed method linear-probe",
            "methods:Big V: variant name 'Big V': use lower-case letters, digits",
            "methods:v2:method: must name an installed method (a string)",
            "methods:v3:colour: unknown option of fake; valid options: correctClasses, unused, widths",
            "methods:v4:correctClasses: must be ≥ 0, got -1",
        };
        foreach (var problem in expected) Assert.Contains(e.Problems, p => p.StartsWith(problem, StringComparison.Ordinal));
        Assert.Equal(expected.Length, e.Problems.Count);
    }

    [Fact]
    public void EveryProblemIsReportedAtOnceWithItsPath()
    {
        var path = Write("""
            {
              "name": "bad", "colour": "red",
              "backbone": { "model": "missing.pt", "dtype": "fp16" },
              "datasets": [ { "type": "imagefolder", "root": "data/a" }, { "type": "imagefolder", "root": "nowhere" }, { "type": "pets2" } ],
              "shots": [1, 2, 1],
              "seeds": [],
              "methods": { "fake": { "correctClasses": [3, -1], "colour": 1 }, "zero-shot": { "templates": "x" }, "nope": {} }
            }
            """);
        var e = Assert.Throws<ExperimentValidationException>(() => Read(path));
        var expected = new[]
        {
            "colour: unknown setting",
            $"backbone:model: file not found: {Temp("missing.pt")}",
            "backbone:dtype: 'fp16' is not one of: fp32, bf16",
            $"datasets:1:root: folder not found: {Temp("nowhere")}",
            "datasets:2:type: unknown dataset type 'pets2'; valid: imagenet,",
            "datasets:1:name: 'imagefolder' is used by an earlier dataset",
            "shots: 1 is listed twice",
            "seeds: missing or empty",
            "methods:fake:colour: unknown option of fake; valid options: correctClasses, unused, widths",
            "methods:nope: unknown method 'nope'; installed: cancels, fails, fake, linear-probe, zero-shot",
            "methods:zero-shot:templates: must be one of dataset, ensemble7",
        };
        foreach (var problem in expected) Assert.Contains(e.Problems, p => p.StartsWith(problem, StringComparison.Ordinal));
        Assert.Equal(expected.Length, e.Problems.Count);
        Assert.Contains(path, e.Message);

        // A bad value at one grid point is reported with the option's path (once the unknown option is gone).
        var grid = Assert.Throws<ExperimentValidationException>(() => Read(path, ["methods:fake={}"]));
        Assert.DoesNotContain(grid.Problems, p => p.StartsWith("methods:fake", StringComparison.Ordinal));
        var point = Assert.Throws<ExperimentValidationException>(() => Read(Write(Valid), ["methods:fake:correctClasses=[3, -1]"]));
        Assert.Equal(["methods:fake:correctClasses: must be ≥ 0, got -1"], point.Problems);
    }

    [Fact]
    public void UnreadableJsonNamesTheFileAndLine()
    {
        var path = Write("{\n  \"name\": \"x\",\n  \"shots\": [1,,2]\n}");
        var e = Assert.Throws<InvalidDataException>(() => ExperimentConfiguration.Load(path, [], NoEnvironment));
        Assert.StartsWith($"{path}: not valid JSON at line 3", e.Message);
        Assert.Throws<ArgumentException>(() => ExperimentConfiguration.Load(Write(Valid), ["no-equals-sign"], NoEnvironment));
    }
}
