using Peft.Clip.Loading;
using Peft.Core.Encoders;
using Peft.Host.Experiments;
using Peft.Host.Plugins;
using Peft.Methods.Maple;
using Peft.Tests.Clip;
using Peft.Tests.Experiments;
using static TorchSharp.torch;
using Peft.Tensors;

namespace Peft.Tests.Encoders;

/// <summary>
/// MaPLe against the official code (Fixtures/encoder/maple.safetensors from tools/reference/make_maple_fixtures.py: the
/// official prompt learner and towers on the random-weight ViT of Fixtures/clip, depth 2, 2 context tokens): the same
/// prompt-learner parameters give the same text and image features, loss and gradients; and a MaPLe cell through the host.
/// </summary>
public sealed class MapleTests(RunnerWorld world) : TempDirectory("peft-maple-"), IClassFixture<RunnerWorld>
{
    static string Fixture => Path.Combine(AppContext.BaseDirectory, "Fixtures", "encoder", "maple.safetensors");

    static double RelativeError(Tensor a, Tensor b) =>
        a.sub(b).abs().max().item<float>() / Math.Max(b.abs().max().item<float>(), 1e-30f);

    [Fact]
    public void CoupledPromptsGiveTheOfficialFeaturesLossAndGradients()
    {
        using var scope = NewDisposeScope();
        using var loaded = ClipLoader.Load(FixturePaths.Clip("vit_state_dict.pt"));
        IAdaptableClip clip = loaded.Model;
        using var fixture = SafeTensorsFile.Read(Fixture);
        using var learner = new MaplePrompts(clip, fixture["tokens"], nCtx: 2, depth: 2, ctxInit: null, new Generator(1));
        var names = learner.Parameters().Select(p => p.Name).ToList();
        Assert.Equal(["ctx", "proj.weight", "proj.bias", "compound_prompts_text.0", "compound_prompt_projections.0.weight",
            "compound_prompt_projections.0.bias"], names);
        using (no_grad())
            foreach (var (name, p) in learner.Parameters()) p.copy_(fixture[$"param/{name}"]);

        Tensor text, image;
        using (clip.Apply(learner.Adaptation))
        {
            text = learner.TextFeatures(clip);
            image = clip.ForwardImage(fixture["images"]);
        }
        Assert.True(RelativeError(text, fixture["text_features"]) < 1e-5, $"text features: {RelativeError(text, fixture["text_features"]):E2}");
        Assert.True(RelativeError(image, fixture["image_features"]) < 1e-5, $"image features: {RelativeError(image, fixture["image_features"]):E2}");
        var logits = image.div(image.norm(1, true)).matmul(text.div(text.norm(1, true)).t()).mul(clip.LogitScale);
        var loss = nn.functional.cross_entropy(logits, fixture["labels"]);
        Assert.Equal(fixture["loss"].item<float>(), loss.item<float>(), 4);
        loss.backward();
        foreach (var (name, p) in learner.Parameters())
        {
            double error = RelativeError(p.grad!, fixture[$"grad/{name}"]);
            Assert.True(error < 1e-4, $"gradient of {name}: relative error {error:E2}");
        }
    }

    [Fact]
    public void AMapleCellRunsThroughTheHostAndPlanRefusesADepthBeyondTheTowers()
    {
        var spec = new ExperimentReader(MethodCatalog.From(new MaplePlugin())) { CurrentDirectory = Dir }
            .Read(ExperimentConfiguration.Load(world.Experiment(Temp("x"), """{ "maple": { "epochs": 2, "depth": 1 } }"""),
                // synth_shapes as its own transfer target: the prompt learner rebuilt for the same class names must give
                // the test accuracy exactly.
                ["datasets:0:transfer:0:name=copy", "datasets:0:transfer:0:type=coop_layout",
                 $"datasets:0:transfer:0:root={Path.Combine(world.Dir, "world", "synth_shapes")}"], new Dictionary<string, string>()));
        var tracker = new InMemoryTracker();
        var summary = new ExperimentRunner(spec, tracker) { Log = TextWriter.Null }.Run();
        Assert.Equal((4, 0), (summary.Ran, summary.Failures.Count));
        var run = tracker.CellRuns("shapes/1/1/maple").Single();
        Assert.Equal("encoder", run.Tags[CellInputs.TierTag]);
        Assert.Equal(run.Metrics.Single(m => m.Key == "test_top1").Value, run.Metrics.Single(m => m.Key == "transfer/copy/test_top1").Value, 9);
        // Depth 1: the context (2 × 64) and its projection to the image width (64 × 64 + 64).
        Assert.Equal(2 * 64 + 64 * 64 + 64, run.Metrics.Single(m => m.Key == "trainable_parameters").Value);

        // The runner world's towers have one block each: plan refuses depth 2 (read from the checkpoint's key names),
        // naming the method, what it needs and what the backbone has.
        var deep = Assert.Throws<ExperimentValidationException>(() => new ExperimentReader(MethodCatalog.From(new MaplePlugin())) { CurrentDirectory = Dir }
            .Read(ExperimentConfiguration.Load(world.Experiment(Temp("y"), """{ "maple": { "epochs": 1, "depth": [1, 2] } }"""), [], new Dictionary<string, string>())));
        Assert.Contains(deep.Problems, p => p.StartsWith("methods:maple:") && p.Contains("needs 2 transformer blocks") && p.Contains("1 (text) and 1 (image)"));
    }
}
