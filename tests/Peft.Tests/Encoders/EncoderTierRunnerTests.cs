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

namespace Peft.Tests.Encoders;

/// <summary>
/// The encoder tier through the host's runner, on the runner tests' synthetic world and random small ViT: CLIP-LoRA
/// cells train on image batches inside both towers, are scored on the features of their own adapted towers, leave the
/// pretrained weights bit-identical (checked and tagged), save their LoRA matrices, and rerun bit for bit; plan
/// refuses what the tier cannot do yet, naming it.
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
        var renderer = new Peft.Data.Caching.EvalViewRenderer(new Peft.Clip.Imaging.ClipPreprocessor(loaded.Model.ImageResolution));
        var pixels = stack(dataset.Test.Select(i => tensor(renderer.Render(Peft.Clip.Imaging.ImageDecoder.Decode(dataset.PathOf(i)), "", 0), [3, 32, 32])).ToList());
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
    public void PlanRefusesImageTowerMethodsOnAResNetBackboneAndWhatTheTierCannotDoYetNamingThem()
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

        var b2n = Assert.Throws<ExperimentValidationException>(() => Read("b2n", Lora, "", "classes=base-to-new"));
        Assert.Contains(b2n.Problems, p => p.StartsWith("methods:clip-lora:") && p.Contains("base-to-new"));
        var shift = Assert.Throws<ExperimentValidationException>(() => Read("shift", Lora, "",
            "datasets:0:targets:0:name=t", "datasets:0:targets:0:type=coop_layout", $"datasets:0:targets:0:root={Path.Combine(world.Dir, "world", "synth_shapes")}"));
        Assert.Contains(shift.Problems, p => p.StartsWith("methods:clip-lora:") && p.Contains("shift or transfer targets"));
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
