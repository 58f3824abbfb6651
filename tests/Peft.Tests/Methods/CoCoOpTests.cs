using Peft.Clip.Text;
using Peft.Core;
using Peft.Core.Prompting;
using Peft.Methods.CoCoOp;
using static TorchSharp.torch;

namespace Peft.Tests.Methods;

using static OfficialCell;

public class CoCoOpTests
{
    /// <summary>The meta-net has cocoop.py's shape (D → D/16 → W) and nn.Linear's initial range U(±1/√fan_in).</summary>
    [Fact]
    public void TheMetaNetHasTheOfficialShapeAndInitialRange()
    {
        using var scope = NewDisposeScope();
        using var meta = MetaNet.Initialise(128, 96, new Generator(3));
        Assert.Equal([8L, 128], meta.W1.shape);
        Assert.Equal([96L, 8], meta.W2.shape);
        Assert.Equal([96L], meta.B2.shape);
        Assert.True(meta.W1.abs().max().item<float>() <= 1 / Math.Sqrt(128) && meta.W1.abs().max().item<float>() > 0.8 / Math.Sqrt(128));
        Assert.True(meta.W2.abs().max().item<float>() <= 1 / Math.Sqrt(8));
        Assert.Throws<ArgumentException>(() => MetaNet.Initialise(8, 96, new Generator(3)));
    }

    /// <summary>
    /// Each image's logits are those of CoOp's head with the context ctx + π(x̂) for that image alone, whatever the number
    /// of prompts per pass.
    /// </summary>
    [Fact]
    public void EachImageIsClassifiedWithItsOwnShiftedContext()
    {
        using var scope = NewDisposeScope();
        using var clip = TinyClip();
        using var cell = new OfficialCell("synth_shapes-1-1.safetensors");
        var context = cell.Context(clip, new RecordingSink());
        using var classifier = (CoCoOpClassifier)new CoCoOp(new CoCoOpOptions { Epochs = 1, PromptsPerPass = 25 }).Fit(context);
        var images = cell.F("test_features").narrow(0, 0, 7);
        var logits = classifier.Logits(images);   // 25 prompts per pass: 2 images of 10 classes at a time
        var w = classifier.Weights;
        using var learner = new PromptLearner(clip.Model, ClipTokenizer.Default, cell.Task.ClassNames, new CoCoOpOptions(), new Generator(1));
        using var noGrad = no_grad();
        for (int i = 0; i < 7; i++)
        {
            var x = nn.functional.normalize(images[i].unsqueeze(0), dim: -1);
            var shift = nn.functional.relu(x.matmul(w["meta_net.linear1.weight"].t()) + w["meta_net.linear1.bias"]).matmul(w["meta_net.linear2.weight"].t()) + w["meta_net.linear2.bias"];
            var prompts = learner.Assemble(0, cell.Task.NumClasses, w["ctx"] + shift);
            var text = nn.functional.normalize(clip.Model.EncodeTokenEmbeddings(prompts, learner.EotIndex), dim: -1);
            var expected = x.matmul(text.t())[0] * clip.Model.LogitScale;
            Assert.True((logits[i] - expected).abs().max().item<float>() < 1e-4, $"image {i}");
        }
        Assert.Equal(4 * clip.Model.TextWidth + 8 * 128 + 8 + clip.Model.TextWidth * 8 + clip.Model.TextWidth, classifier.TrainableParameters);
    }

    /// <summary>On the 16-shot synth_fine cell, with its own meta-net draw: far above chance (1/12) and above zero-shot CLIP.</summary>
    [Fact]
    public void BeatsChanceAndZeroShotOnASixteenShotCell()
    {
        using var scope = NewDisposeScope();
        using var clip = TinyClip();
        using var cell = new OfficialCell("synth_fine-16-1.safetensors");
        var labels = cell.L("test_labels");
        using var cocoop = new CoCoOp(new CoCoOpOptions()).Fit(cell.Context(clip, new RecordingSink()));
        double ours = Accuracy(cell.Predict(cocoop), labels);
        using var noGrad = no_grad();
        double zeroShot = Accuracy(nn.functional.normalize(cell.F("test_features"), dim: -1).matmul(cell.TextWeights.t()).argmax(1).data<long>().ToArray(), labels);
        Assert.True(ours > zeroShot && ours > 100.0 / 12 * 3, $"CoCoOp {ours:F2}%, zero-shot {zeroShot:F2}%");
    }

    [Fact]
    public void BadOptionsAreNamed()
    {
        var problems = new CoCoOpOptions { CtxInit = "", NCtx = 0, Epochs = 0, BatchSize = 0, TrainViews = 0, PromptsPerPass = 0, Select = "x" }.Validate().ToList();
        foreach (var name in new[] { "nCtx", "epochs", "batchSize", "trainViews", "promptsPerPass", "select" })
            Assert.Contains(problems, p => p.StartsWith(name + " "));
        Assert.Empty(new CoCoOpOptions().Validate());
    }
}
