using Peft.Clip.Text;
using Peft.Core;
using Peft.Methods.TaskRes;
using static TorchSharp.torch;

namespace Peft.Tests.Methods;

using static OfficialCell;

public class TaskResTests
{
    /// <summary>
    /// The head against a float64 computation from the paper's formula: t = mean over the prompts of the unnormalised
    /// text features (here 8 prompts: the mean of unnormalised features differs from the zero-shot classifier's mean of
    /// normalised ones), t' = t + α·x, logits = s · cos(f, t').
    /// </summary>
    [Fact]
    public void LogitsAreTheScaledCosineWithTheBasePlusTheScaledResidual()
    {
        using var scope = NewDisposeScope();
        using var support = new MethodTestSupport();
        string[] classes = ["cat", "dog", "fox"];
        var context = support.Context(classes, shots: 2);
        var options = new TaskResOptions { Templates = "dataset+ensemble7", Epochs = 3, Scale = 0.7, TrainViews = 2 };
        using var classifier = (TaskResClassifier)new TaskRes(options).Fit(context);

        var templates = PromptTemplates.Resolve("dataset+ensemble7", context.Task.Templates);
        var embeddings = TextClassifier.Embeddings(support.Clip.Model, ClipTokenizer.Default, classes, templates).to(ScalarType.Float64);
        Assert.Equal(8, embeddings.shape[1]);
        var expectedBase = embeddings.mean([1]);
        Assert.True((classifier.Base.to(ScalarType.Float64) - expectedBase).abs().max().item<double>() < 1e-6);
        var zeroShot = TextClassifier.Build(support.Clip.Model, ClipTokenizer.Default, classes, templates).to(ScalarType.Float64);
        Assert.True((nn.functional.normalize(expectedBase, dim: -1) - zeroShot).abs().max().item<double>() > 1e-4,
            "the test should tell the mean of unnormalised features from the zero-shot classifier");

        var residual = classifier.Residual.detach().to(ScalarType.Float64);
        Assert.True(residual.abs().max().item<double>() > 0, "three epochs should move the residual");
        var f = randn([5, context.Features.Dim], dtype: ScalarType.Float64, generator: new Generator(3));
        var t = expectedBase + residual * 0.7;
        var expected = nn.functional.normalize(f, dim: -1).matmul(nn.functional.normalize(t, dim: -1).t()) * support.Clip.Model.LogitScale;
        Assert.True((classifier.Logits(f.to(ScalarType.Float32)).to(ScalarType.Float64) - expected).abs().max().item<double>() < 1e-4);
        Assert.Equal(3 * context.Features.Dim, classifier.TrainableParameters);
        Assert.Equal(["base_text_features", "text_feature_residuals"], classifier.Weights.Keys.Order().ToArray());
    }

    /// <summary>
    /// One epoch of one full batch without warm-up from x = 0: Adam's first step is −lr·g/(|g| + ε) per element (the
    /// bias-corrected moments are g and g²; the weight decay adds 5e-4·x = 0), g the cross-entropy gradient at x = 0.
    /// </summary>
    [Fact]
    public void TheFirstStepIsAdamsFromAZeroResidual()
    {
        using var scope = NewDisposeScope();
        using var support = new MethodTestSupport();
        string[] classes = ["cat", "dog", "fox", "owl"];
        var context = support.Context(classes, shots: 3, views: 1);
        var options = new TaskResOptions { Epochs = 1, WarmupEpochs = 0, Lr = 0.01, TrainViews = 1 };
        using var classifier = (TaskResClassifier)new TaskRes(options).Fit(context);

        var x = zeros_like(classifier.Base, dtype: ScalarType.Float64).requires_grad_(true);
        var t = classifier.Base.to(ScalarType.Float64) + x * options.Scale;
        var f = nn.functional.normalize(context.Features.TrainViews(1)[0].to(ScalarType.Float64), dim: -1);
        var logits = f.matmul(nn.functional.normalize(t, dim: -1).t()) * support.Clip.Model.LogitScale;
        nn.functional.cross_entropy(logits, context.Features.TrainLabels).backward();
        var g = x.grad!;
        var expected = -0.01 * g / (g.abs() + 1e-8);
        var actual = classifier.Residual.detach().to(ScalarType.Float64);
        Assert.True((actual - expected).abs().max().item<double>() < 1e-6, $"max difference {(actual - expected).abs().max().item<double>():g3}");
    }

    [Fact]
    public void BestValKeepsTheEpochWithTheBestValidationAccuracy()
    {
        using var scope = NewDisposeScope();
        using var clip = TinyClip();
        using var cell = new OfficialCell("synth_fine-4-2.safetensors");
        var sink = new RecordingSink();
        var context = cell.Context(clip, sink);
        using var classifier = new TaskRes(new TaskResOptions { Select = "best-val", Epochs = 30 }).Fit(context);
        var val = sink.Series("val/accuracy");
        Assert.Equal(30, val.Length);
        var predicted = classifier.Logits(context.Features.ValFeatures()).argmax(1);
        double kept = predicted.eq(context.Features.ValLabels).to(ScalarType.Float64).mean().item<double>();
        Assert.Equal(val.Max(), kept, 12);
    }

    /// <summary>On the 16-shot official-comparison cell of synth_fine: far above chance (1/12) and above zero-shot CLIP.</summary>
    [Fact]
    public void BeatsChanceAndZeroShotOnASixteenShotCell()
    {
        using var scope = NewDisposeScope();
        using var clip = TinyClip();
        using var cell = new OfficialCell("synth_fine-16-1.safetensors");
        var labels = cell.L("test_labels");
        using var taskres = new TaskRes(new TaskResOptions()).Fit(cell.Context(clip, new RecordingSink()));
        double ours = Accuracy(cell.Predict(taskres), labels);
        using var noGrad = no_grad();
        double zeroShot = Accuracy(nn.functional.normalize(cell.F("test_features"), dim: -1).matmul(cell.TextWeights.t()).argmax(1).data<long>().ToArray(), labels);
        Assert.True(ours > zeroShot + 3 && ours > 100.0 / 12 * 3, $"TaskRes {ours:F2}%, zero-shot {zeroShot:F2}%");
    }

    [Fact]
    public void EpochsFollowTheOfficialScriptsAndPresetsTheirPerDatasetSettings()
    {
        var options = new TaskResOptions();
        Assert.Equal([100, 100, 100, 200, 200], new[] { 1, 2, 4, 8, 16 }.Select(options.EpochsFor));
        Assert.Equal(7, (options with { Epochs = 7 }).EpochsFor(16));
        var flowers = TaskResPresets.TaskRes.Single(p => p.Dataset == CoopDatasetNames.Flowers102);
        Assert.Equal("1", flowers.Values["scale"]);
        var imagenet = TaskResPresets.TaskRes.Single(p => p.Dataset == CoopDatasetNames.ImageNet);
        Assert.Equal("0.0002", imagenet.Values["lr"]);
        Assert.Equal("dataset+ensemble7", imagenet.Values["templates"]);
    }

    [Fact]
    public void BadOptionsAreNamed()
    {
        var problems = new TaskResOptions
        {
            Scale = -1, Templates = "all", Epochs = 0, BatchSize = 0, Lr = 0, WeightDecay = -1, Betas = [0.9], WarmupEpochs = -1,
            WarmupLr = 0, TrainViews = 0, Select = "best-test",
        }.Validate().ToList();
        foreach (var name in new[] { "scale", "templates", "epochs", "batchSize", "lr", "weightDecay", "betas", "warmupEpochs", "warmupLr", "trainViews", "select" })
            Assert.Contains(problems, p => p.StartsWith(name + " "));
        Assert.Empty(new TaskResOptions().Validate());
    }
}
