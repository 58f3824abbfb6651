using Peft.Clip.Text;
using Peft.Core;
using Peft.Methods.Clap;
using static TorchSharp.torch;

namespace Peft.Tests.Methods;

using static OfficialCell;

public class ClapTests
{
    /// <summary>
    /// λ by hand: logits (0, 0), (ln 3, 0), (0, ln 3) with labels 0, 0, 1 have softmax (½, ½), (¾, ¼), (¼, ¾); class 0's
    /// mean true-class probability is (½ + ¾)/2 = 0.625, class 1's is ¾.
    /// </summary>
    [Fact]
    public void MultipliersAreTheZeroShotMeanTrueClassProbabilityPerClass()
    {
        using var scope = NewDisposeScope();
        double ln3 = Math.Log(3);
        var logits = tensor(new float[] { 0, 0, (float)ln3, 0, 0, (float)ln3 }).view(3, 2);
        var lambda = ClassAdaptiveConstraint.Multipliers(logits, tensor(new long[] { 0, 0, 1 }), 2).data<float>().ToArray();
        Assert.Equal(0.625, lambda[0], 6);
        Assert.Equal(0.75, lambda[1], 6);

        var missing = Assert.Throws<InvalidOperationException>(() => ClassAdaptiveConstraint.Multipliers(logits, tensor(new long[] { 0, 0, 0 }), 2));
        Assert.Contains("every class", missing.Message);
    }

    /// <summary>Penalty by hand: ‖(1, 2) − (0, 0)‖² = 5 with λ ½, ‖(0, 0) − (0, 1)‖² = 1 with λ 2: mean(2.5, 2) = 2.25.</summary>
    [Fact]
    public void PenaltyIsTheMeanOfTheWeightedSquaredDistances()
    {
        using var scope = NewDisposeScope();
        var penalty = ClassAdaptiveConstraint.Penalty(tensor(new float[] { 1, 2, 0, 0 }).view(2, 2), tensor(new float[] { 0, 0, 0, 1 }).view(2, 2),
            tensor(new float[] { 0.5f, 2 }));
        Assert.Equal(2.25, penalty.item<float>(), 6);
    }

    /// <summary>Logits by hand: f = (3, 4) → (0.6, 0.8); prototypes (5, 0) → (1, 0) and (0, 2) → (0, 1); scale 10 → (6, 8).</summary>
    [Fact]
    public void LogitsAreTheScaledCosineWithTheNormalisedPrototypes()
    {
        using var scope = NewDisposeScope();
        using var classifier = new ClapClassifier(tensor(new float[] { 5, 0, 0, 2 }).view(2, 2), 10);
        var logits = classifier.Logits(tensor(new float[] { 3, 4 }).view(1, 2)).data<float>().ToArray();
        Assert.Equal(6, logits[0], 5);
        Assert.Equal(8, logits[1], 5);
        Assert.Equal(4, classifier.TrainableParameters);
        Assert.Equal(["base_text_features", "prototypes"], classifier.Weights.Keys.Order().ToArray());
    }

    /// <summary>
    /// Two epochs, each one full batch over the pool of all V·N views (N &lt; batch size: one batch, Dassl's loader length),
    /// against float64 autograd: w₀ = t (the mean unnormalised text features), λ from zero-shot on the pool,
    /// loss = CE + mean λ‖w − t‖², SGD with momentum 0.9 (buffer g₀, then 0.9·g₀ + g₁) at the cosine's learning rates.
    /// The second step is where the penalty acts (its gradient is zero at w = t).
    /// </summary>
    [Fact]
    public void TrainsOnThePooledViewsWithTheConstraint()
    {
        using var scope = NewDisposeScope();
        using var support = new MethodTestSupport();
        string[] classes = ["cat", "dog", "fox"];
        var context = support.Context(classes, shots: 2, views: 3);
        var options = new ClapOptions { Epochs = 2, WarmupEpochs = 0, Lr = 5, AugmentViews = 3 };
        using var classifier = (ClapClassifier)new Clap(options).Fit(context);

        var t = TextClassifier.Embeddings(support.Clip.Model, ClipTokenizer.Default, classes, context.Task.Templates).mean([1]).to(ScalarType.Float64);
        var pool = nn.functional.normalize(context.Features.TrainViews(3).reshape(-1, context.Features.Dim).to(ScalarType.Float64), dim: -1);
        var labels = context.Features.TrainLabels.repeat(3);
        double scale = support.Clip.Model.LogitScale;
        Tensor Logits(Tensor w) => pool.matmul(nn.functional.normalize(w, dim: -1).t()) * scale;

        var probabilities = softmax(Logits(t), -1).data<double>().ToArray();
        var y = labels.data<long>().ToArray();
        var lambda = Enumerable.Range(0, 3).Select(c => Enumerable.Range(0, y.Length).Where(i => y[i] == c).Average(i => probabilities[i * 3 + c])).ToArray();
        var expectedLambda = tensor(lambda);
        Assert.True((classifier.Multipliers!.to(ScalarType.Float64) - expectedLambda).abs().max().item<double>() < 1e-6);

        var w = t.clone();
        Tensor? buffer = null;
        for (int epoch = 0; epoch < 2; epoch++)
        {
            var p = w.clone().requires_grad_(true);
            var loss = nn.functional.cross_entropy(Logits(p), labels) + (expectedLambda * (p - t).pow(2).sum(-1)).mean();
            loss.backward();
            var g = p.grad!.detach();
            buffer = buffer is null ? g : buffer * 0.9 + g;
            w = w - buffer * Clap.LearningRate(epoch, options);
        }
        var actual = classifier.Prototypes.detach().to(ScalarType.Float64);
        Assert.True((actual - t).abs().max().item<double>() > 1e-3, "two steps should move the prototypes");
        double error = (actual - w).abs().max().item<double>() / (w - t).abs().max().item<double>();
        Assert.True(error < 1e-4, $"prototypes differ from the float64 computation by {error:g3} of the step");
    }

    /// <summary>
    /// On the 16-shot official-comparison cell of synth_fine: far above chance (1/12) and above zero-shot CLIP; and the
    /// constraint keeps every class at least as close to its zero-shot prototype as the unconstrained ZS-LP.
    /// </summary>
    [Fact]
    public void BeatsChanceAndZeroShotOnASixteenShotCellAndStaysCloserToZeroShotThanZsLp()
    {
        using var scope = NewDisposeScope();
        using var clip = TinyClip();
        using var cell = new OfficialCell("synth_fine-16-1.safetensors");
        var labels = cell.L("test_labels");
        using var clap = new Clap(new ClapOptions { AugmentViews = 10 }).Fit(cell.Context(clip, new RecordingSink()));
        using var zslp = new Clap(new ClapOptions { AugmentViews = 10, Constraint = "none" }).Fit(cell.Context(clip, new RecordingSink()));
        double ours = Accuracy(cell.Predict(clap), labels);
        using var noGrad = no_grad();
        double zeroShot = Accuracy(nn.functional.normalize(cell.F("test_features"), dim: -1).matmul(cell.TextWeights.t()).argmax(1).data<long>().ToArray(), labels);
        Assert.True(ours > zeroShot + 3 && ours > 100.0 / 12 * 3, $"CLAP {ours:F2}%, zero-shot {zeroShot:F2}%");

        Tensor Distance(IFeatureClassifier c) => (c.Weights["prototypes"] - c.Weights["base_text_features"]).pow(2).sum(-1);
        var constrained = Distance(clap).data<float>().ToArray();
        var free = Distance(zslp).data<float>().ToArray();
        Assert.All(constrained.Zip(free), p => Assert.True(p.First <= p.Second, $"CLAP {p.First:g4} vs ZS-LP {p.Second:g4}"));
    }

    [Fact]
    public void DefaultsAreTheOfficialConfigAndImageNetGetsItsTemplates()
    {
        var options = new ClapOptions();
        Assert.Equal(("l2", 300, 256, 0.1, 0.9, 0.0, 1, 1e-5, 20),
            (options.Constraint, options.Epochs, options.BatchSize, options.Lr, options.Momentum, options.WeightDecay, options.WarmupEpochs, options.WarmupLr, options.AugmentViews));
        var imagenet = ClapPresets.Clap.Single(p => p.Dataset == CoopDatasetNames.ImageNet);
        Assert.Equal("dataset+ensemble7", imagenet.Values["templates"]);
        Assert.Equal(1e-5, Clap.LearningRate(0, options));
        Assert.Equal(0.1, Clap.LearningRate(1, options));
    }

    [Fact]
    public void BadOptionsAreNamed()
    {
        var problems = new ClapOptions
        {
            Constraint = "cosine", Templates = "all", Epochs = 0, BatchSize = 0, Lr = 0, Momentum = 1, WeightDecay = -1,
            WarmupEpochs = -1, WarmupLr = 0, AugmentViews = 0,
        }.Validate().ToList();
        foreach (var (name, value) in new[] { ("constraint", "'cosine'"), ("templates", "'all'"), ("epochs", "0"), ("batchSize", "0"), ("lr", "0"),
                     ("momentum", "1"), ("weightDecay", "-1"), ("warmupEpochs", "-1"), ("warmupLr", "0"), ("augmentViews", "0") })
            Assert.Contains(problems, p => p.StartsWith(name + " ") && p.EndsWith(value));
        Assert.Contains(new ClapOptions { Lr = double.PositiveInfinity }.Validate(), p => p.StartsWith("lr "));
        Assert.Empty(new ClapOptions().Validate());
    }
}
