using Peft.Core.Tracking;
using Peft.Data.Datasets;
using Peft.Data.Features;
using Peft.Host.Experiments;
using Peft.Host.Plugins;
using Peft.Methods.LinearProbe;
using Peft.Methods.TipAdapter;
using Peft.Methods.ZeroShot;
using static TorchSharp.torch;
using Peft.Tensors;

namespace Peft.Tests.Experiments;

/// <summary>
/// Issue 18, item 5: <c>peft data export-cell</c> writes a cell's inputs as a <c>features</c> dataset, and an
/// experiment run on that file gives the cell's results again (same accuracies for the deterministic methods).
/// </summary>
public sealed class FeaturesDatasetRoundTripTests(RunnerWorld world) : TempDirectory("peft-features-"), IClassFixture<RunnerWorld>
{
    const string Methods = """{ "zero-shot": {}, "tip-adapter": { "augmentViews": 2 }, "linear-probe": {}, "tip-adapter-f": { "augmentViews": 2, "trainViews": 2, "epochs": 3 } }""";

    static MethodCatalog Catalog => MethodCatalog.From(new ZeroShotPlugin(), new TipAdapterPlugin(), new LinearProbePlugin());

    ExperimentSpec Read(string path, params string[] sets) =>
        new ExperimentReader(Catalog) { CurrentDirectory = Dir }.Read(ExperimentConfiguration.Load(path, sets, new Dictionary<string, string>()));

    /// <summary>An experiment over one features file, named like the original so every cell draws the same seeds.</summary>
    string FeaturesExperiment(string folder, string file, string shots = "[2]")
    {
        Directory.CreateDirectory(Temp(folder));
        var path = Temp($"{folder}/exp.json");
        File.WriteAllText(path, $$"""
            {
              "name": "runner-test",
              "backbone": { "model": "{{world.Model}}" },
              "datasets": [ { "name": "shapes", "type": "features", "root": "{{file}}" } ],
              "shots": {{shots}}, "seeds": [1], "trainViews": 2,
              "cache": "{{Temp(folder + "/cache")}}", "output": "out",
              "methods": {{Methods}}
            }
            """);
        return path;
    }

    [Fact]
    public void An_exported_cell_run_as_a_features_dataset_gives_the_same_accuracies()
    {
        var original = Read(world.Experiment(Temp("original"), Methods), "shots=[2]");
        var tracker = new InMemoryTracker();
        var summary = new ExperimentRunner(original, tracker) { Log = TextWriter.Null }.Run();
        Assert.Empty(summary.Failures);

        var file = Temp("cell.safetensors");
        var export = CellExporter.Export(original, "shapes", 2, 1, "tip-adapter", file);
        Assert.True(File.Exists(Temp("cell.json")));
        var sidecar = File.ReadAllText(Temp("cell.json"));
        Assert.Contains(export.SplitSha256, sidecar);
        Assert.Contains("\"augmentViews\"", sidecar.Replace("AugmentViews", "augmentViews", StringComparison.OrdinalIgnoreCase));
        // The cache key names the features of the exported method's transform (zero-shot reads no views: another key).
        var originalRun = tracker.CellRuns("shapes/2/1/tip-adapter").Single(r => r.Status == RunStatus.Finished);
        Assert.Equal(originalRun.Tags["peft.split_sha256"], export.SplitSha256);
        Assert.Equal(originalRun.Tags["peft.feature_cache_key"], export.FeatureCacheKey);
        Assert.Equal((20, 20, 30, 2), (export.Train, export.Val, export.Test, export.Views)); // 10 classes: 2 shots, 2 val (all there are), 3 test

        // The file is a valid features dataset: rows in the split's order, text weights per template set.
        using (var features = PrecomputedFeatures.Load(file))
        {
            Assert.Equal(10, features.NumClasses);
            Assert.NotNull(features.TextWeights);
            Assert.Equal([20L, 32L], features.TrainFeatures.shape);
        }
        var dataset = DatasetRegistry.Get("features").Read(file);
        Assert.Equal(["a photo of a {}."], dataset.Templates);

        var replay = Read(FeaturesExperiment("replay", file));
        var again = new InMemoryTracker();
        summary = new ExperimentRunner(replay, again) { Log = TextWriter.Null }.Run();
        Assert.Empty(summary.Failures);
        foreach (var method in new[] { "zero-shot", "tip-adapter", "linear-probe", "tip-adapter-f" })
        {
            var a = tracker.CellRuns($"shapes/2/1/{method}").Single(r => r.Status == RunStatus.Finished);
            var b = again.CellRuns($"shapes/2/1/{method}").Single(r => r.Status == RunStatus.Finished);
            foreach (var key in new[] { "test_top1", "test_mean_per_class", "val_top1" })
                Assert.True(a.Metrics.Single(m => m.Key == key).Value == b.Metrics.Single(m => m.Key == key).Value,
                    $"{method} {key}: {a.Metrics.Single(m => m.Key == key).Value} from images, {b.Metrics.Single(m => m.Key == key).Value} from the exported features");
        }
    }

    [Fact]
    public void A_features_file_says_what_is_wrong_with_it()
    {
        var original = Read(world.Experiment(Temp("original"), Methods), "shots=[2]");
        var file = Temp("cell.safetensors");
        CellExporter.Export(original, "fine", 2, 1, null, file);

        // An exported cell holds one shot count.
        var other = Read(FeaturesExperiment("other", file, "[4]"));
        var summary = new ExperimentRunner(other, new InMemoryTracker()) { Log = TextWriter.Null }.Run();
        Assert.All(summary.Failures.Values, f => Assert.Contains("holds one 2-shot cell", f));
        Assert.Equal(4, summary.Failures.Count);

        // A missing file is a plan-time problem naming the key.
        var missing = Assert.Throws<ExperimentValidationException>(() => Read(FeaturesExperiment("missing", Temp("nope.safetensors"))));
        Assert.Contains("file not found", missing.Message);

        // Features without class names are refused with the key named.
        var bad = Temp("bad.safetensors");
        using (var t = zeros(3, 32))
        using (var l = zeros(3, ScalarType.Int64))
            Peft.Tensors.SafeTensorsFile.Write(bad, [new("train_features", t), new("train_labels", l), new("test_features", t), new("test_labels", l)]);
        var e = Assert.Throws<DatasetFormatException>(() => DatasetRegistry.Get("features").Read(bad));
        Assert.Contains("classnames", e.Message);
    }
}
