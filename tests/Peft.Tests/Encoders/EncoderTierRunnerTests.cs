using Microsoft.Extensions.DependencyInjection;
using Peft.Clip.Loading;
using Peft.Clip.Model;
using Peft.Core;
using Peft.Core.Encoders;
using Peft.Core.Tracking;
using Peft.Host.Experiments;
using Peft.Host.Methods;
using Peft.Host.Plugins;
using Peft.Methods.ClipLora;
using Peft.Methods.ZeroShot;
using Peft.Tests.Experiments;
using Peft.Tests.Host;
using static TorchSharp.torch;
using Peft.Results;
using Peft.Tensors;

namespace Peft.Tests.Encoders;

/// <summary>
/// The encoder tier through the host's runner, on the runner tests' synthetic world and random small ViT: CLIP-LoRA
/// cells train on image batches inside both towers, are scored on the features of their own adapted towers, leave the
/// pretrained weights bit-identical (checked and tagged), save their LoRA matrices, and rerun bit for bit; plan
/// refuses what the tier cannot do, naming it; base-to-new, shift and transfer
/// targets are scored on the adapted towers too.
/// </summary>
public sealed class EncoderTierRunnerTests(RunnerWorld world) : TempDirectory("peft-encoder-tier-"), IClassFixture<RunnerWorld>
{
    const string Lora = """{ "zero-shot": {}, "clip-lora": { "itersPerShot": 3, "batchSize": 8, "params": ["q", "k", "v", "o"] } }""";

    ExperimentSpec Read(string folder, string methods, string extra = "", params string[] sets) =>
        new ExperimentReader(MethodCatalog.From(new ZeroShotPlugin(), new ClipLoraPlugin(), new WeightWriterPlugin())) { CurrentDirectory = Dir }
            .Read(ExperimentConfiguration.Load(world.Experiment(Temp(folder), methods, extra), sets, new Dictionary<string, string>()));

    static RunSummary Run(ExperimentSpec spec, InMemoryTracker tracker) =>
        new ExperimentRunner(spec, tracker) { Log = TextWriter.Null }.Run();

    [Fact]
    public void ClipLoraCellsTrainInsideBothTowersAreScoredOnTheirAdaptedFeaturesAndRerunBitForBit()
    {
        var spec = Read("a", Lora);
        var tracker = new InMemoryTracker();
        var summary = Run(spec, tracker);
        Assert.Equal((8, 0), (summary.Ran, summary.Failures.Count));

        using var loaded = ClipLoader.Load(world.Model);
        string fingerprint = EncoderCellData.PretrainedFingerprint(loaded.Model);
        IAdaptableClip clip = loaded.Model;
        // q, k, v, o of the one block of each tower, rank 2: (width·2 + 2·width) per pair.
        long expectedParameters = clip.LinearSites.Count(s => s.Kind <= LinearKind.Output) * 2L * (64 + 64);
        foreach (var key in new[] { "shapes/1/1/clip-lora", "shapes/2/1/clip-lora", "fine/1/1/clip-lora", "fine/2/1/clip-lora" })
        {
            var run = tracker.CellRuns(key).Single();
            Assert.Equal(RunStatus.Finished, run.Status);
            Assert.Equal("encoder", run.Tags[CellInputs.TierTag]);
            Assert.Equal(fingerprint, run.Tags[CellInputs.FrozenWeightsTag]); // the checkpoint's own weights, unchanged
            Assert.Equal(expectedParameters, run.Metrics.Single(m => m.Key == "trainable_parameters").Value);
            Assert.Contains(run.Metrics, m => m.Key == "train/loss");
            var names = WeightNames(run.Artifacts["weights.safetensors"]);
            Assert.Contains("image.0.attn.q.lora_A", names);
            Assert.Contains("text.0.attn.o.lora_B", names);
        }
        Assert.DoesNotContain(CellInputs.TierTag, tracker.CellRuns("shapes/1/1/zero-shot").Single().Tags.Keys);

        // A second run into another output folder: the same accuracies and the same LoRA matrices, byte for byte.
        var again = new InMemoryTracker();
        Assert.Equal(8, Run(Read("b", Lora), again).Ran);
        foreach (var key in new[] { "shapes/2/1/clip-lora", "fine/1/1/clip-lora" })
        {
            var (first, second) = (tracker.CellRuns(key).Single(), again.CellRuns(key).Single());
            Assert.Equal(first.Metrics.Single(m => m.Key == "test_top1").Value, second.Metrics.Single(m => m.Key == "test_top1").Value);
            Assert.Equal(first.Artifacts["weights.safetensors"], second.Artifacts["weights.safetensors"]);
        }

        // Gradient checkpointing per block (dropout 0.25 replayed in the recomputation): the same training, so the same
        // accuracy and the same LoRA matrices up to float rounding.
        var checkpointed = new InMemoryTracker();
        Assert.Equal(8, Run(Read("ck", Lora.Replace("\"batchSize\": 8", "\"batchSize\": 8, \"gradientCheckpointing\": true")), checkpointed).Ran);
        foreach (var key in new[] { "shapes/2/1/clip-lora", "fine/1/1/clip-lora" })
        {
            var (plain, ck) = (tracker.CellRuns(key).Single(), checkpointed.CellRuns(key).Single());
            Assert.Equal(plain.Metrics.Single(m => m.Key == "test_top1").Value, ck.Metrics.Single(m => m.Key == "test_top1").Value);
            Assert.Equal("true", ck.Params[TrackingNames.MethodOptionPrefix + "gradientCheckpointing"], StringComparer.OrdinalIgnoreCase);
            using var scope = NewDisposeScope();
            var (a, b) = (ReadWeights(plain.Artifacts["weights.safetensors"]), ReadWeights(ck.Artifacts["weights.safetensors"]));
            foreach (var (name, t) in a)
                Assert.True(t.allclose(b[name], 1e-4, 1e-6), $"{key} {name}: max |Δ| {t.sub(b[name]).abs().max().item<float>():E2}");
        }
    }

    [Fact]
    public void EncoderDtypeBf16TrainsTheEncoderTierInBf16TowersWhileFeatureLevelMethodsKeepFp32()
    {
        const string methods = """{ "zero-shot": {}, "clip-lora": { "itersPerShot": 2, "batchSize": 8 } }""";
        var (mixed, allBf16, allFp32) = (new InMemoryTracker(), new InMemoryTracker(), new InMemoryTracker());
        Assert.Equal(0, Run(Read("mixed", methods, "", "backbone:encoderDtype=bf16"), mixed).ExitCode);
        Assert.Equal(0, Run(Read("bf16", methods, "", "backbone:dtype=bf16"), allBf16).ExitCode);
        Assert.Equal(0, Run(Read("fp32", methods), allFp32).ExitCode);
        double Top1(InMemoryTracker t, string key) => t.CellRuns(key).Single().Metrics.Single(m => m.Key == "test_top1").Value;
        foreach (var (dataset, shots) in new[] { ("shapes", 1), ("fine", 2) })
        {
            string lora = $"{dataset}/{shots}/1/clip-lora", zeroShot = $"{dataset}/{shots}/1/zero-shot";
            // The encoder tier computed in bf16 towers: the same training as an all-bf16 experiment, byte for byte.
            var (m, b) = (mixed.CellRuns(lora).Single(), allBf16.CellRuns(lora).Single());
            Assert.Equal("bf16", m.Tags[CellInputs.EncoderDtypeTag]);
            Assert.Equal(b.Tags[CellInputs.FrozenWeightsTag], m.Tags[CellInputs.FrozenWeightsTag]); // the bf16 copy's weights
            Assert.Equal(Top1(allBf16, lora), Top1(mixed, lora));
            Assert.Equal(b.Artifacts["weights.safetensors"], m.Artifacts["weights.safetensors"]);
            Assert.Equal("fp32", allFp32.CellRuns(lora).Single().Tags[CellInputs.EncoderDtypeTag]);
            // The feature-level method kept the fp32 features.
            Assert.Equal(Top1(allFp32, zeroShot), Top1(mixed, zeroShot));
        }
        var bad = Assert.Throws<ExperimentValidationException>(() => Read("bad", methods, "", "backbone:encoderDtype=fp16"));
        Assert.Contains(bad.Problems, p => p.StartsWith("backbone:encoderDtype: 'fp16'"));
    }

    [Fact]
    public void AScoreOnAdaptedFeaturesEqualsTheClassifierAppliedToTheTowersByHand()
    {
        // The host's test accuracy of a fitted CLIP-LoRA classifier is what its adaptation and logits give when applied
        // by hand to the test images: the evaluation is the host's, and it runs the adapted towers.
        var spec = Read("c", """{ "clip-lora": { "itersPerShot": 2, "batchSize": 8 } }""");
        var tracker = new InMemoryTracker();
        Assert.Equal(0, Run(spec, tracker).ExitCode);
        var run = tracker.CellRuns("shapes/1/1/clip-lora").Single();

        using var scope = NewDisposeScope();
        using var loaded = ClipLoader.Load(world.Model);
        var weights = Path.Combine(Dir, "w.safetensors");
        File.WriteAllBytes(weights, run.Artifacts["weights.safetensors"]);
        using var trained = SafeTensorsFile.Read(weights);
        using var layers = new ClipLoraLayers(loaded.Model, new ClipLoraOptions(), null);
        using (no_grad())
            foreach (var (name, p) in layers.Parameters()) p.copy_(trained[name]);
        var dataset = new Peft.Data.Datasets.CoopLayoutReader().Read(Path.Combine(world.Dir, "world", "synth_shapes"));
        var renderer = new Peft.Features.EvalViewRenderer(new Peft.Imaging.ClipPreprocessor(loaded.Model.ImageResolution));
        var pixels = stack(dataset.Test.Select(i => tensor(renderer.Render(Peft.Imaging.ImageDecoder.Decode(dataset.PathOf(i)), "", 0), [3, 32, 32])).ToList());
        var prompts = dataset.ClassNames.Select(c => PromptTemplates.Fill(dataset.Templates[0], c.Replace('_', ' '))).ToList();
        Tensor image, text;
        using (loaded.Model.Apply(layers.Adaptation))
        {
            image = loaded.Model.EncodeImage(pixels);
            text = loaded.Model.EncodeText(Peft.Clip.Text.ClipTokenizer.Default.TokenizeToTensor(prompts, 77, truncate: true));
        }
        var predicted = image.div(image.norm(1, true)).matmul(text.div(text.norm(1, true)).t()).argmax(1);
        var labels = tensor(dataset.Test.Select(i => (long)i.Label).ToArray());
        double top1 = predicted.eq(labels).to(ScalarType.Float64).mean().item<double>() * 100;
        Assert.Equal(top1, run.Metrics.Single(m => m.Key == "test_top1").Value, 9);
    }

    [Fact]
    public void PlanRefusesImageTowerMethodsOnAResNetBackboneAndFeaturesFileTargetsNamingThem()
    {
        var resnet = RandomClip.Save(Temp("rn.safetensors"), new ClipConfig
        {
            EmbedDim = 32, ImageResolution = 32, VisionLayers = [1, 1, 1, 1], VisionWidth = 8, VisionPatchSize = null,
            ContextLength = 77, VocabSize = 49408, TextWidth = 64, TextLayers = 1,
        }, seed: 1);
        var refused = Assert.Throws<ExperimentValidationException>(() => Read("rn", Lora, "", $"backbone:model={resnet}"));
        Assert.Contains(refused.Problems, p => p.StartsWith("methods:clip-lora:") && p.Contains(resnet) && p.Contains("ModifiedResNet"));
        // Text-only LoRA applies to any backbone.
        var textOnly = Read("rn-text", """{ "clip-lora": { "encoder": "text" } }""", "", $"backbone:model={resnet}");
        Assert.Single(textOnly.Methods);

        var features = Assert.Throws<ExperimentValidationException>(() => Read("feat", Lora, "",
            "datasets:0:transfer:0:name=t", "datasets:0:transfer:0:type=features", $"datasets:0:transfer:0:root={Temp("f.safetensors")}"));
        Assert.Contains(features.Problems, p => p.StartsWith("methods:clip-lora:") && p.Contains("dataset t is a features file"));
    }

    [Fact]
    public void UnderEveryProtocolEncoderCellsAreScoredOnTheirOwnAdaptedTowers()
    {
        string shapes = Path.Combine(world.Dir, "world", "synth_shapes");
        // synth_shapes as its own shift and transfer target: the same test images and classes, so both accuracies must
        // equal the cell's test accuracy exactly; anything cached or unadapted would differ.
        var spec = Read("targets", """{ "clip-lora": { "itersPerShot": 3, "batchSize": 8 } }""", "",
            "datasets:0:targets:0:name=same", "datasets:0:targets:0:type=coop_layout", $"datasets:0:targets:0:root={shapes}",
            "datasets:0:transfer:0:name=copy", "datasets:0:transfer:0:type=coop_layout", $"datasets:0:transfer:0:root={shapes}");
        var tracker = new InMemoryTracker();
        Assert.Equal(0, Run(spec, tracker).ExitCode);
        var run = tracker.CellRuns("shapes/1/1/clip-lora").Single();
        double Metric(InMemoryTracker.Run r, string key) => r.Metrics.Single(m => m.Key == key).Value;
        double testTop1 = Metric(run, "test_top1");
        Assert.Equal(testTop1, Metric(run, TrackingNames.ShiftMetric("same", "test_top1")), 9);
        Assert.Equal(testTop1, Metric(run, TrackingNames.TransferMetric("copy", "test_top1")), 9);
        Assert.Equal("encoder", run.Tags[CellInputs.TierTag]);

        // Base-to-new: trained on the base half; the new half's accuracy is the trained LoRA applied by hand to the new
        // classes' test images and prompts.
        var b2n = Read("b2n", """{ "clip-lora": { "itersPerShot": 3, "batchSize": 8 } }""", "", "classes=base-to-new");
        var b2nTracker = new InMemoryTracker();
        Assert.Equal(0, Run(b2n, b2nTracker).ExitCode);
        var cell = b2nTracker.CellRuns("shapes/1/1/clip-lora").Single();
        var dataset = new Peft.Data.Datasets.CoopLayoutReader().Read(shapes);
        var split = Peft.Data.Splits.SplitManifest.Parse(System.Text.Encoding.UTF8.GetString(cell.Artifacts[TrackingNames.SplitArtifact]), "split");
        var (baseHalf, newHalf) = Peft.Data.Splits.ClassSubsample.Split(split.Train.Select(i => i.Label));
        Assert.Equal(ByHand(cell, dataset, baseHalf.Apply(split.Test), baseHalf.ClassNames(dataset.ClassNames)), Metric(cell, "test_top1"), 9);
        Assert.Equal(ByHand(cell, dataset, newHalf.Apply(split.Test), newHalf.ClassNames(dataset.ClassNames)),
            Metric(cell, TrackingNames.NewClassesMetricPrefix + "test_top1"), 9);
    }

    /// <summary>Top-1 (%) of a CLIP-LoRA run's saved weights applied by hand: adapted image features of <paramref name="items"/>
    /// against the adapted text tower's prompts of <paramref name="classNames"/> (the dataset's first template).</summary>
    double ByHand(InMemoryTracker.Run run, Peft.Data.Datasets.ImageDataset dataset, IReadOnlyList<Peft.Data.Datasets.DatasetItem> items, IReadOnlyList<string> classNames)
    {
        using var scope = NewDisposeScope();
        using var loaded = ClipLoader.Load(world.Model);
        var weights = Path.Combine(Dir, $"w-{Guid.NewGuid():N}.safetensors");
        File.WriteAllBytes(weights, run.Artifacts["weights.safetensors"]);
        using var trained = SafeTensorsFile.Read(weights);
        using var layers = new ClipLoraLayers(loaded.Model, new ClipLoraOptions(), null);
        using (no_grad())
            foreach (var (name, p) in layers.Parameters()) p.copy_(trained[name]);
        var renderer = new Peft.Features.EvalViewRenderer(new Peft.Imaging.ClipPreprocessor(loaded.Model.ImageResolution));
        var pixels = stack(items.Select(i => tensor(renderer.Render(Peft.Imaging.ImageDecoder.Decode(dataset.PathOf(i)), "", 0), [3, 32, 32])).ToList());
        var prompts = classNames.Select(c => PromptTemplates.Fill(dataset.Templates[0], c.Replace('_', ' '))).ToList();
        Tensor image, text;
        using (loaded.Model.Apply(layers.Adaptation))
        {
            image = loaded.Model.EncodeImage(pixels);
            text = loaded.Model.EncodeText(Peft.Clip.Text.ClipTokenizer.Default.TokenizeToTensor(prompts, 77, truncate: true));
        }
        var predicted = image.div(image.norm(1, true)).matmul(text.div(text.norm(1, true)).t()).argmax(1);
        var labels = tensor(items.Select(i => (long)i.Label).ToArray());
        return predicted.eq(labels).to(ScalarType.Float64).mean().item<double>() * 100;
    }

    [Fact]
    public void AMethodThatWritesAPretrainedWeightFailsItsCellWithTheReason()
    {
        var spec = Read("w", """{ "weight-writer": {} }""");
        var tracker = new InMemoryTracker();
        var summary = Run(spec, tracker);
        Assert.Equal(1, summary.ExitCode);
        var failed = tracker.CellRuns("shapes/1/1/weight-writer").Single();
        Assert.Equal(RunStatus.Failed, failed.Status);
        Assert.Contains("changed pretrained weights", failed.Tags["peft.error"]);
    }

    static Dictionary<string, Tensor> ReadWeights(byte[] safetensors)
    {
        var path = Path.Combine(Path.GetTempPath(), $"peft-weights-{Guid.NewGuid():N}.safetensors");
        File.WriteAllBytes(path, safetensors);
        try
        {
            using var file = SafeTensorsFile.Read(path);
            return file.Keys.ToDictionary(k => k, k => file[k].clone());
        }
        finally { File.Delete(path); }
    }

    static List<string> WeightNames(byte[] safetensors)
    {
        var path = Path.Combine(Path.GetTempPath(), $"peft-weights-{Guid.NewGuid():N}.safetensors");
        File.WriteAllBytes(path, safetensors);
        try { return SafeTensorsFile.ReadHeader(path).entries.Select(e => e.Name).ToList(); }
        finally { File.Delete(path); }
    }

    /// <summary>An encoder-level method that breaks the contract: it writes into a pretrained tensor.</summary>
    public sealed class WeightWriterPlugin : IMethodPlugin
    {
        public void Register(IServiceCollection services) =>
            services.AddEncoderMethod<Writer, WriterOptions>("weight-writer", "writes a pretrained weight (test only)", _ => new Writer(),
                TrainingAugmentation.Dassl);

        public sealed record WriterOptions : IEncoderMethodOptions
        {
            public bool AdaptsImageTransformer => false;
            public IEnumerable<string> Validate() => [];
        }

        sealed class Writer : IEncoderAdaptationMethod
        {
            public IEncoderClassifier Fit(EncoderAdaptationContext context)
            {
                using (no_grad()) ((ClipModel)context.Clip).parameters().First().add_(1e-3);
                return new Head();
            }
        }

        sealed class Head : IEncoderClassifier
        {
            public TowerAdaptation Adaptation { get; } = new();
            public Tensor Logits(Tensor imageFeatures) => zeros(imageFeatures.shape[0], 10);
            public long TrainableParameters => 0;
            public IReadOnlyDictionary<string, Tensor> Weights { get; } = new Dictionary<string, Tensor>();
            public void Dispose() { }
        }
    }
}
