using Peft.Clip.Loading;
using Peft.Core.Encoders;
using Peft.Host.Experiments;
using Peft.Host.Plugins;
using Peft.Methods.Vpt;
using Peft.Tests.Clip;
using Peft.Tests.Experiments;
using static TorchSharp.torch;
using Peft.Tensors;

namespace Peft.Tests.Encoders;

/// <summary>
/// Deep VPT against the official code (Fixtures/encoder/vpt.safetensors from tools/reference/make_vpt_fixtures.py: MaPLe's
/// clip/model.py with trainer "VPT" on the random-weight ViT of Fixtures/clip), and a VPT cell through the host.
/// </summary>
public sealed class VptTests(RunnerWorld world) : TempDirectory("peft-vpt-"), IClassFixture<RunnerWorld>
{
    static string Fixture => Path.Combine(AppContext.BaseDirectory, "Fixtures", "encoder", "vpt.safetensors");

    static double RelativeError(Tensor a, Tensor b) =>
        a.sub(b).abs().max().item<float>() / Math.Max(b.abs().max().item<float>(), 1e-30f);

    [Fact]
    public void PromptedImageFeaturesLossAndPromptGradientsEqualTheOfficialVpt()
    {
        using var scope = NewDisposeScope();
        using var loaded = ClipLoader.Load(FixturePaths.Clip("vit_state_dict.pt"));
        IAdaptableClip clip = loaded.Model;
        using var fixture = SafeTensorsFile.Read(Fixture);
        using var prompts = new VisualPrompts(clip, new VptOptions { NCtx = 4, Depth = 2 }, new Generator(1));
        Assert.Equal(["embeddings", "1"], prompts.Sets.Select(s => s.Name));
        using (no_grad())
        {
            prompts.Sets[0].Prompts.copy_(fixture["prompts/embeddings"]);
            prompts.Sets[1].Prompts.copy_(fixture["prompts/1"]);
        }
        var text = clip.EncodeText(fixture["tokens"]); // the fixed class prompts: frozen text tower, no prompts
        Assert.True(RelativeError(text, fixture["text_features"]) < 1e-5);
        Tensor image;
        using (clip.Apply(prompts.Adaptation)) image = clip.ForwardImage(fixture["images"]);
        double featureError = RelativeError(image, fixture["image_features"]);
        Assert.True(featureError < 1e-5, $"image features: {featureError:E2}");

        var logits = image.div(image.norm(1, true)).matmul(text.div(text.norm(1, true)).t()).mul(clip.LogitScale);
        var loss = nn.functional.cross_entropy(logits, fixture["labels"]);
        Assert.Equal(fixture["loss"].item<float>(), loss.item<float>(), 4);
        loss.backward();
        // The official backward rounds the prompts' gradients to fp16 (its `.half()` cast): ~5e-4 relative.
        foreach (var (name, p) in prompts.Sets)
        {
            double error = RelativeError(p.grad!, fixture[$"grad/{name}"]);
            Assert.True(error < 2e-3, $"gradient of prompts {name}: relative error {error:E2}");
        }
    }

    [Fact]
    public void ShallowVptOnlyAppendsAtTheInputAndThePooledClassTokenStaysFirst()
    {
        using var scope = NewDisposeScope();
        using var loaded = ClipLoader.Load(FixturePaths.Clip("vit_state_dict.pt"));
        IAdaptableClip clip = loaded.Model;
        using var shallow = new VisualPrompts(clip, new VptOptions { NCtx = 3, Depth = 1 }, new Generator(2));
        Assert.Single(shallow.Adaptation.Tokens);
        Assert.Equal(-1, shallow.Adaptation.Tokens.Keys.Single().Block);
        // Depth beyond the tower's blocks: every block, as the official Transformer builds it.
        using var deep = new VisualPrompts(clip, new VptOptions { NCtx = 3, Depth = 12 }, new Generator(2));
        Assert.Equal(clip.Layers(Tower.Image), deep.Sets.Count);
        var tokens = randn(2, 5, clip.Width(Tower.Image));
        var appended = shallow.Adaptation.Tokens.Values.Single().Transform(tokens);
        Assert.Equal([2L, 8, clip.Width(Tower.Image)], appended.shape);
        Assert.True(appended.narrow(1, 0, 5).equal(tokens).all().item<bool>());
    }

    [Fact]
    public void AVptCellRunsThroughTheHost()
    {
        var spec = new ExperimentReader(MethodCatalog.From(new VptPlugin())) { CurrentDirectory = Dir }
            .Read(ExperimentConfiguration.Load(world.Experiment(Temp("x"), """{ "vpt": { "epochs": 2, "nCtx": 2 } }"""), ["classes=base-to-new"],
                new Dictionary<string, string>()));
        var tracker = new InMemoryTracker();
        var summary = new ExperimentRunner(spec, tracker) { Log = TextWriter.Null }.Run();
        Assert.Equal((4, 0), (summary.Ran, summary.Failures.Count));
        var run = tracker.CellRuns("fine/1/1/vpt").Single();
        Assert.Equal("encoder", run.Tags[CellInputs.TierTag]);
        Assert.Equal(2 * 64, run.Metrics.Single(m => m.Key == "trainable_parameters").Value); // one block: the input's 2 prompts
        Assert.Equal(2, run.Metrics.Count(m => m.Key == "train/loss"));
        // Base-to-new: the new half is scored through the prompted image tower and the frozen text prompts of its classes.
        Assert.InRange(run.Metrics.Single(m => m.Key == "new/test_top1").Value, 0, 100);
        Assert.DoesNotContain("peft.not_applicable", run.Tags.Keys);
    }
}
