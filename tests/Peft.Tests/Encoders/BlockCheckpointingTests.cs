using Peft.Clip.Loading;
using Peft.Core.Encoders;
using Peft.Methods.ClipLora;
using Peft.Methods.Vpt;
using Peft.Tests.Clip;
using static TorchSharp.torch;
using Peft.Tensors;

namespace Peft.Tests.Encoders;

/// <summary>
/// Gradient checkpointing per block (<see cref="TowerAdaptation.Checkpointing"/>) changes memory, not results: one
/// training step on the random-weight ViT gives the same loss and gradients with and without it, for LoRA deltas with
/// dropout on (the recomputation must replay the generator) and for deep visual prompts (token transforms), and leaves
/// the generator where the plain step leaves it.
/// </summary>
public class BlockCheckpointingTests
{
    /// <summary>The CLIP-LoRA fixture's images, tokens and labels (one batch through both towers).</summary>
    static string Fixture => Path.Combine(AppContext.BaseDirectory, "Fixtures", "encoder", "clip_lora.safetensors");

    static double RelativeError(Tensor a, Tensor b) =>
        a.sub(b).abs().max().item<float>() / Math.Max(b.abs().max().item<float>(), 1e-30f);

    /// <summary>Loss of one contrastive step through both towers (images and tokens of the CLIP-LoRA fixture).</summary>
    static Tensor Loss(IAdaptableClip clip, TowerAdaptation adaptation, StateDict fixture)
    {
        using (clip.Apply(adaptation))
        {
            var image = clip.ForwardImage(fixture["images"]);
            var text = clip.ForwardText(fixture["tokens"]);
            var logits = image.div(image.norm(1, true)).matmul(text.div(text.norm(1, true)).t()).mul(100);
            return nn.functional.cross_entropy(logits, fixture["labels"]);
        }
    }

    [Fact]
    public void LoraWithDropoutGivesTheSameLossAndGradientsWithCheckpointedBlocks()
    {
        using var scope = NewDisposeScope();
        using var loaded = ClipLoader.Load(FixturePaths.Clip("vit_state_dict.pt"));
        IAdaptableClip clip = loaded.Model;
        using var fixture = SafeTensorsFile.Read(Fixture);
        var generator = new Generator(7);
        using var layers = new ClipLoraLayers(clip, new ClipLoraOptions { Params = ["q", "k", "v", "o"], Dropout = 0.25 }, generator);
        using (no_grad())
            foreach (var (_, p) in layers.Parameters()) p.normal_(0, 0.1, new Generator(3)); // B = 0 would hide A's gradients
        layers.Training = true;
        using var start = generator.get_state();

        var plain = Loss(clip, layers.Adaptation, fixture);
        plain.backward();
        var expected = layers.Parameters().Select(p => p.Parameter.grad!.clone()).ToList();
        using var after = generator.get_state();
        foreach (var (_, p) in layers.Parameters()) p.grad = null;

        generator.set_state(start);
        layers.Adaptation.Checkpointing = new BlockCheckpointing(generator);
        var checkpointed = Loss(clip, layers.Adaptation, fixture);
        checkpointed.backward();
        Assert.Equal(plain.item<float>(), checkpointed.item<float>());
        var names = layers.Parameters().Select(p => p.Name).ToList();
        var actual = layers.Parameters().Select(p => p.Parameter.grad!).ToList();
        for (int i = 0; i < expected.Count; i++)
            Assert.True(RelativeError(actual[i], expected[i]) < 1e-6, $"{names[i]}: {RelativeError(actual[i], expected[i]):E2}");
        Assert.True(generator.get_state().eq(after).all().item<bool>(), "the checkpointed step left the generator elsewhere");

        // Without the replay the recomputed dropout masks differ, and so do the gradients: the test can fail.
        foreach (var (_, p) in layers.Parameters()) p.grad = null;
        generator.set_state(start);
        layers.Adaptation.Checkpointing = new BlockCheckpointing(null);
        Loss(clip, layers.Adaptation, fixture).backward();
        Assert.Contains(Enumerable.Range(0, expected.Count), i => RelativeError(layers.Parameters().ElementAt(i).Parameter.grad!, expected[i]) > 1e-3);
    }

    [Fact]
    public void DeepVisualPromptsGetTheSameGradientsWithCheckpointedBlocks()
    {
        using var scope = NewDisposeScope();
        using var loaded = ClipLoader.Load(FixturePaths.Clip("vit_state_dict.pt"));
        IAdaptableClip clip = loaded.Model;
        using var fixture = SafeTensorsFile.Read(Fixture);
        using var prompts = new VisualPrompts(clip, new VptOptions { NCtx = 4, Depth = 2 }, new Generator(1));
        var plain = Loss(clip, prompts.Adaptation, fixture);
        plain.backward();
        var expected = prompts.Sets.Select(s => s.Prompts.grad!.clone()).ToList();
        foreach (var s in prompts.Sets) s.Prompts.grad = null;

        prompts.Adaptation.Checkpointing = new BlockCheckpointing(null);
        var checkpointed = Loss(clip, prompts.Adaptation, fixture);
        checkpointed.backward();
        Assert.Equal(plain.item<float>(), checkpointed.item<float>());
        for (int i = 0; i < expected.Count; i++)
            Assert.True(RelativeError(prompts.Sets[i].Prompts.grad!, expected[i]) < 1e-6, $"{prompts.Sets[i].Name}: {RelativeError(prompts.Sets[i].Prompts.grad!, expected[i]):E2}");
    }
}
