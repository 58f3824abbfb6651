using Peft.Core;
using Peft.Methods.TipAdapter;
using Peft.Methods.ZeroShot;
using Peft.Testing;
using static TorchSharp.torch;

namespace Peft.Tests.Methods;

/// <summary>Peft.Testing, the test support package of plugin authors: synthetic task, fake text encoder, host run.</summary>
public sealed class PeftTestingTests() : TempDirectory("peft-testing-")
{
    [Fact]
    public void TheFakeTextEncoderIsDeterministicDistinguishesPromptsAndPassesGradients()
    {
        using var a = new FakeTextEncoder();
        using var b = new FakeTextEncoder();
        var tokenizer = Peft.Clip.Text.ClipTokenizer.Default;
        using var scope = NewDisposeScope();
        var tokens = tokenizer.TokenizeToTensor(["a photo of a circle.", "a photo of a square."], a.ContextLength);
        var fa = a.EncodeText(tokens);
        Assert.Equal([2L, a.EmbedDim], fa.shape);
        Assert.True(fa.allclose(b.EncodeText(tokens), rtol: 0, atol: 0));
        Assert.False(fa[0].allclose(fa[1]));
        // Truncated to the longest prompt (CLIP's causal mask): the same features.
        long longest = tokens.argmax(-1).max().item<long>() + 1;
        Assert.True(fa.allclose(a.EncodeTokenEmbeddings(a.EmbedTokens(tokens).narrow(1, 0, longest), tokens.argmax(-1)), atol: 1e-6));
        // Prompt learning: gradients reach learned embeddings, never the encoder.
        var context = a.EmbedTokens(tokens).detach().requires_grad_(true);
        a.EncodeTokenEmbeddings(context, tokens.argmax(-1)).sum().backward();
        Assert.NotNull(context.grad);
        Assert.True(context.grad!.abs().sum().item<float>() > 0);
    }

    [Fact]
    public void TheSyntheticTaskSeparatesItsClassesAndZeroShotIsAboveChance()
    {
        using var task = SyntheticTask.Create(shots: 2, views: 3);
        var ctx = task.Context;
        Assert.Equal(SyntheticTask.DefaultClasses, ctx.Task.ClassNames);
        Assert.Equal([10L, 64L], ctx.Features.TrainFeatures().shape);
        Assert.Equal([3L, 10L, 64L], ctx.Features.TrainViews(3).shape);
        Assert.Equal([100L, 64L], task.TestFeatures.shape);
        using var classifier = new ZeroShotPlugin().RegisteredMethod("zero-shot").Create(null).Fit(ctx);
        Assert.True(task.Accuracy(classifier) > 50, $"zero-shot on the fake encoder: {task.Accuracy(classifier)}% (chance 20%)");
    }

    [Fact]
    public void HostRunRunsAMethodThroughTheHostOnTheSyntheticWorldNextToZeroShot()
    {
        var run = HostRun.OnSyntheticWorld(new TipAdapterPlugin(), "tip-adapter", new HostRunOptions
        {
            WorkDirectory = Temp("work"), WorldDirectory = Temp("world"), CacheDirectory = Temp("cache"), Threads = 1,
        });
        Assert.Equal(["tip-adapter", "zero-shot"], run.Cells.Select(c => c.Method).Order());
        Assert.All(run.Cells, c => Assert.Equal(("synth_shapes", 1, 1), (c.Dataset, c.Shots, c.Seed)));
        // The quickstart's zero-shot accuracy on synth_shapes with the tiny CLIP (README: 53.8%).
        Assert.Equal(53.8, run.Accuracy("zero-shot"), 1);
        Assert.True(run.Accuracy("tip-adapter") > 10);
        Assert.True(File.Exists(run.ExperimentFile));
        Assert.True(Directory.Exists(Path.Combine(run.WorkDirectory, "mlruns")));
        Assert.Throws<ArgumentException>(() => run.Accuracy("coop"));
    }
}

static class PluginTestExtensions
{
    /// <summary>The descriptor a plugin registers under <paramref name="name"/>.</summary>
    public static MethodDescriptor RegisteredMethod(this IMethodPlugin plugin, string name) =>
        Peft.Host.Plugins.MethodCatalog.From(plugin).Get(name);
}
