using Peft.Core;
using Peft.Methods.CoOp;
using Peft.Methods.KgCoOp;
using static TorchSharp.torch;

namespace Peft.Tests.Methods;

using static OfficialCell;

public class KgCoOpTests
{
    /// <summary>
    /// The loss by hand on two classes in 2-D: text features (3, 4) and (0, 2) normalise to (0.6, 0.8) and (0, 1); the
    /// hand-crafted ones are (1, 0) and (0, 1): cosines 0.6 and 1, regulariser 1 − 0.8 = 0.2. One image (1, 0) of class 0,
    /// logit scale 10: logits (6, 0), cross-entropy log(1 + e⁻⁶).
    /// </summary>
    [Fact]
    public void TheLossIsCrossEntropyPlusTheWeightedMeanCosineDistance()
    {
        using var scope = NewDisposeScope();
        var text = tensor(new float[] { 3, 4, 0, 2 }).reshape(2, 2);
        var handcrafted = tensor(new float[] { 1, 0, 0, 1 }).reshape(2, 2);
        var images = tensor(new float[] { 1, 0 }).reshape(1, 2);
        var labels = tensor(new long[] { 0 });
        double ce = Math.Log(1 + Math.Exp(-6));
        Assert.Equal(ce + 8 * 0.2, KgCoOp.Loss(10f, handcrafted, 8).Invoke(text, images, labels).item<float>(), 5);
        Assert.Equal(ce, KgCoOp.Loss(10f, handcrafted, 0).Invoke(text, images, labels).item<float>(), 5);
        Assert.Equal(ce, KgCoOp.Loss(10f, tensor(new float[] { 0.6f, 0.8f, 0, 1 }).reshape(2, 2), 8).Invoke(text, images, labels).item<float>(), 5);
    }

    /// <summary>With weight 0 KgCoOp is CoOp with KgCoOp's settings: the same learned context and predictions as the CoOp plugin.</summary>
    [Fact]
    public void WithoutTheRegulariserItIsCoOp()
    {
        using var scope = NewDisposeScope();
        using var clip = TinyClip();
        using var cell = new OfficialCell("synth_fine-4-2.safetensors");
        using var kg = new KgCoOp(new KgCoOpOptions { Weight = 0, Epochs = 5 }).Fit(cell.Context(clip, new RecordingSink()));
        using var coop = new CoOpMethod(new CoOpOptions { CtxInit = "a photo of a", Epochs = 5, BatchSize = 128 }).Fit(cell.Context(clip, new RecordingSink()));
        Assert.Equal(0.0, (kg.Weights["ctx"] - coop.Weights["ctx"]).abs().max().item<float>());
        Assert.Equal(cell.Predict(coop), cell.Predict(kg));
        Assert.Equal(4 * clip.Model.TextWidth, kg.TrainableParameters);
    }

    /// <summary>The regulariser keeps the learned prompt's features nearer the hand-crafted ones than CoOp's (same settings otherwise).</summary>
    [Fact]
    public void TheRegulariserKeepsTheClassifierNearTheHandcraftedOne()
    {
        using var scope = NewDisposeScope();
        using var clip = TinyClip();
        using var cell = new OfficialCell("synth_fine-16-1.safetensors");
        double MeanCos(IFeatureClassifier c) => (c.Weights["text_features"] * cell.TextWeights).sum(1).mean().item<float>();
        using var kg = new KgCoOp(new KgCoOpOptions { Epochs = 30 }).Fit(cell.Context(clip, new RecordingSink()));
        using var free = new KgCoOp(new KgCoOpOptions { Epochs = 30, Weight = 0 }).Fit(cell.Context(clip, new RecordingSink()));
        Assert.True(MeanCos(kg) > MeanCos(free), $"KgCoOp mean cosine {MeanCos(kg):F4}, without the regulariser {MeanCos(free):F4}");
    }

    /// <summary>On the 16-shot synth_fine cell: far above chance (1/12) and above zero-shot CLIP.</summary>
    [Fact]
    public void BeatsChanceAndZeroShotOnASixteenShotCell()
    {
        using var scope = NewDisposeScope();
        using var clip = TinyClip();
        using var cell = new OfficialCell("synth_fine-16-1.safetensors");
        var labels = cell.L("test_labels");
        using var kg = new KgCoOp(new KgCoOpOptions()).Fit(cell.Context(clip, new RecordingSink()));
        double ours = Accuracy(cell.Predict(kg), labels);
        using var noGrad = no_grad();
        double zeroShot = Accuracy(nn.functional.normalize(cell.F("test_features"), dim: -1).matmul(cell.TextWeights.t()).argmax(1).data<long>().ToArray(), labels);
        Assert.True(ours > zeroShot && ours > 100.0 / 12 * 3, $"KgCoOp {ours:F2}%, zero-shot {zeroShot:F2}%");
    }

    [Fact]
    public void DefaultsPresetAndBadOptions()
    {
        var o = new KgCoOpOptions();
        Assert.Equal(("a photo of a", 8.0, 100, 128, "end", false), (o.CtxInit, o.Weight, o.Epochs, o.BatchSize, o.ClassTokenPosition, o.ClassSpecificContext));
        var dtd = KgCoOpPlugin.Presets.Single();
        Assert.Equal(CoopDatasetNames.Dtd, dtd.Dataset);
        Assert.Equal("a photo of a {}, a type of texture.", dtd.Values["handcraftedTemplate"]);
        var problems = new KgCoOpOptions
        {
            Weight = -1, CtxInit = "", NCtx = 0, HandcraftedTemplate = "no slot", Epochs = 0, BatchSize = 0, TrainViews = 0, ClassChunk = 0, Select = "best-test",
        }.Validate().ToList();
        foreach (var name in new[] { "weight", "nCtx", "handcraftedTemplate", "epochs", "batchSize", "trainViews", "classChunk", "select" })
            Assert.Contains(problems, p => p.StartsWith(name + " "));
        Assert.Empty(o.Validate());
    }
}
