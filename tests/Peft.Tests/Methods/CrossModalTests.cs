using Microsoft.Extensions.Configuration;
using Peft.Imaging;
using Peft.Core;
using Peft.Data.Augmentation;
using Peft.Host.Experiments;
using Peft.Host.Plugins;
using Peft.Methods.CrossModal;
using Peft.Tests.Imaging;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Peft.Tests.Methods;

using static OfficialCell;

public class CrossModalTests(ITestOutputHelper output)
{
    /// <summary>
    /// The published schedule (lr 1e-3, 50 warm-up iterations from 1e-5, cosine over T = 12800) by hand: iteration 0 at
    /// 1e-5; 1 at 1e-3·1/50; 49 at 1e-3·49/50; 50 at 1e-3 (the cosine's epoch 0); 51 at the cosine's epoch 1,
    /// 1e-3·(1 + cos(π/T))/2; the last (12799) at epoch 12749, 1e-3·(1 + cos(12749π/T))/2 — the cosine never reaches 0.
    /// </summary>
    [Fact]
    public void LearningRatesFollowTheOfficialWarmupAndCosine()
    {
        var lr = CrossModalSchedule.LearningRates(12800, 1e-3, 50, 1e-5);
        Assert.Equal(12800, lr.Length);
        Assert.Equal(1e-5, lr[0]);
        Assert.True(Math.Abs(lr[1] - 2e-5) < 1e-20, $"{lr[1]:R}");
        Assert.True(Math.Abs(lr[49] - 9.8e-4) < 1e-18, $"{lr[49]:R}");
        Assert.Equal(1e-3, lr[50]);
        Assert.True(Math.Abs(lr[51] - 1e-3 * (1 + Math.Cos(Math.PI / 12800)) / 2) < 1e-18, $"{lr[51]:R}");
        double last = 1e-3 * (1 + Math.Cos(Math.PI * 12749 / 12800)) / 2;
        Assert.True(Math.Abs(lr[^1] - last) < 1e-12 * last, $"last lr {lr[^1]:R}, closed form {last:R}");
        Assert.True(lr[^1] > 0 && lr[^1] < 1e-7);
        for (int i = 51; i < lr.Length; i++) Assert.True(lr[i] < lr[i - 1], $"iteration {i} does not decrease");
        // Without warm-up the cosine starts at iteration 0.
        var plain = CrossModalSchedule.LearningRates(4, 0.1, 0, 1e-5);
        Assert.Equal(0.1, plain[0]);
        Assert.Equal(0.1 * (1 + Math.Cos(Math.PI / 4)) / 2, plain[1], 15);
    }

    /// <summary>
    /// train.py get_valid_batch_sizes: cross-modal batch b takes int(b/2) text features and the rest images, each share
    /// strictly below its set's size; uni-modal takes b images.
    /// </summary>
    [Fact]
    public void ValidBatchSizesFollowTheOfficialRule()
    {
        // 10 classes × 1 template, 1 shot + its flip view: 32 needs 16 < 10 text features: only 8.
        Assert.Equal([8], CrossModalSchedule.ValidBatchSizes([8, 32], textCount: 10, imageCount: 20, crossModal: true));
        Assert.Equal([8, 32], CrossModalSchedule.ValidBatchSizes([8, 32], textCount: 17, imageCount: 17, crossModal: true));
        Assert.Equal([8], CrossModalSchedule.ValidBatchSizes([8, 32], textCount: 16, imageCount: 17, crossModal: true));   // strict <
        Assert.Empty(CrossModalSchedule.ValidBatchSizes([8, 32], textCount: 4, imageCount: 100, crossModal: true));
        Assert.Equal([8], CrossModalSchedule.ValidBatchSizes([8, 32], textCount: 0, imageCount: 20, crossModal: false));
        Assert.Equal((4, 5), CrossModalSchedule.Split(9, crossModal: true));
        Assert.Equal((0, 9), CrossModalSchedule.Split(9, crossModal: false));
    }

    /// <summary>
    /// Two AdamW steps by hand (β 0.9/0.999, ε 1e-8, lr 0.1, weight decay 0.01) on θ = (1, −2) with gradients g₁ = (0.5, −4)
    /// and g₂ = (−1, 2): θ ← θ(1 − lr·wd), m ← 0.9m + 0.1g, v ← 0.999v + 0.001g², θ ← θ − (lr/(1 − 0.9ᵗ))·m/(√v/√(1 − 0.999ᵗ) + ε).
    /// The first step moves each coordinate by lr against the sign of its gradient; and TorchSharp's own AdamW agrees.
    /// </summary>
    [Fact]
    public void AdamWStepMatchesAHandComputation()
    {
        using var scope = NewDisposeScope();
        double[] theta = [1, -2], m = [0, 0], v = [0, 0];
        double[][] grads = [[0.5, -4], [-1, 2]];
        const double lr = 0.1, wd = 0.01;
        var parameter = tensor(new float[] { 1, -2 });
        using var adam = new AdamW(parameter);
        var reference = new TorchSharp.Modules.Parameter(tensor(new float[] { 1, -2 }));
        using var torchAdam = optim.AdamW([reference], lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: wd);
        for (int t = 1; t <= 2; t++)
        {
            var g = grads[t - 1];
            for (int j = 0; j < 2; j++)
            {
                theta[j] *= 1 - lr * wd;
                m[j] = 0.9 * m[j] + 0.1 * g[j];
                v[j] = 0.999 * v[j] + 0.001 * g[j] * g[j];
                theta[j] -= lr / (1 - Math.Pow(0.9, t)) * m[j] / (Math.Sqrt(v[j]) / Math.Sqrt(1 - Math.Pow(0.999, t)) + 1e-8);
            }
            adam.Step(parameter, tensor(g.Select(x => (float)x).ToArray()), lr, wd);
            using (no_grad()) reference.grad = tensor(g.Select(x => (float)x).ToArray());
            torchAdam.step();
            var ours = parameter.data<float>().ToArray();
            var torchSharp = reference.detach().data<float>().ToArray();
            for (int j = 0; j < 2; j++)
            {
                Assert.Equal(theta[j], ours[j], 5);
                Assert.Equal(torchSharp[j], ours[j], 6);
            }
            if (t == 1) Assert.Equal([0.999f - 0.1f, -1.998f + 0.1f], ours.Select(x => (float)Math.Round(x, 6)).ToArray());
        }
    }

    /// <summary>
    /// Loader orders: a pass of ⌊n/b⌋ batches of one permutation, a new permutation when the next batch would not fit
    /// (drop_last), drawn from the generator when first needed.
    /// </summary>
    [Fact]
    public void LoadersDrawOnePermutationPerPassAndDropTheRest()
    {
        using var scope = NewDisposeScope();
        var drawn = new List<long[]>();
        var loader = new CrossModalSchedule.RestartingLoader(5, 2, new Generator(7), drawn);
        var batches = new long[4][];
        for (int i = 0; i < 4; i++) { batches[i] = new long[2]; loader.Next(batches[i], 100); }
        var g = new Generator(7);
        var first = randperm(5, generator: g).data<long>().ToArray();
        var second = randperm(5, generator: g).data<long>().ToArray();
        Assert.Equal(2, drawn.Count);
        Assert.Equal([first, second], drawn);
        Assert.Equal(first.Take(2).Select(r => r + 100), batches[0]);
        Assert.Equal(first.Skip(2).Take(2).Select(r => r + 100), batches[1]);
        Assert.Equal(second.Take(2).Select(r => r + 100), batches[2]);   // first[4] is dropped
        Assert.Equal(second.Skip(2).Take(2).Select(r => r + 100), batches[3]);
    }

    /// <summary>The "flip" view is the evaluation centre crop mirrored, identical for every view index and seed.</summary>
    [Fact]
    public void FlipViewIsTheCentreCropMirrored()
    {
        var image = ImageDecoder.Decode(ImageFixtures.PathOf("photo_chelsea.jpg"));
        var spec = MethodAugmentation.ToSpec(TrainingAugmentation.CenterFlip, 64);
        Assert.Equal(AugmentationSpec.CenterFlip(64), spec);
        Assert.Equal("ccrop(64,bicubic)+hflip(1)", spec.Key);
        Assert.NotEqual(AugmentationSpec.TipAdapter(64).Key, spec.Key);
        var expected = HorizontalFlip.Apply(new ClipPreprocessor(64).PrepareRgb(image)).Pixels;
        Assert.Equal(expected, TrainingViewSampler.Sample(spec, 1, "cat", 0, image).Pixels);
        Assert.Equal(expected, TrainingViewSampler.Sample(spec, 9, "cat", 3, image).Pixels);
        Assert.NotEqual(new ClipPreprocessor(64).PrepareRgb(image).Pixels, expected);
        Assert.Equal(TrainingAugmentation.CenterFlip, TrainingAugmentation.Find("flip"));
    }

    /// <summary>
    /// On the 16-shot synth_fine cell with one grid point and 1,500 iterations: far above chance (1/12), for both
    /// modalities; the text features matter (cross-modal differs from uni-modal); the chosen head is the first best.
    /// </summary>
    [Fact]
    public void BeatsChanceOnASixteenShotCellInBothModalities()
    {
        using var scope = NewDisposeScope();
        using var clip = TinyClip();
        using var cell = new OfficialCell("synth_fine-16-1.safetensors");
        var labels = cell.L("test_labels");
        var options = new CrossModalOptions { Lr = [1e-3], WeightDecay = [0.01], BatchSize = [8], Iterations = 1500 };
        var sink = new RecordingSink();
        var cross = new CrossModalMethod(options).Search(cell.Context(clip, sink));
        using var crossClassifier = cross.Classifier;
        var uni = new CrossModalMethod(options with { Modality = "uni-modal" }).Search(cell.Context(clip, new RecordingSink()));
        using var uniClassifier = uni.Classifier;
        double crossAccuracy = Accuracy(cell.Predict(crossClassifier), labels), uniAccuracy = Accuracy(cell.Predict(uniClassifier), labels);
        output.WriteLine($"cross-modal {crossAccuracy:F2}% (iteration {cross.Runs[0].BestIteration}), uni-modal {uniAccuracy:F2}% (iteration {uni.Runs[0].BestIteration})");
        Assert.True(crossAccuracy > 3 * 100.0 / 12 && uniAccuracy > 3 * 100.0 / 12, $"cross {crossAccuracy:F2}%, uni {uniAccuracy:F2}%");
        Assert.NotEqual(crossClassifier.Weight.data<float>().ToArray(), uniClassifier.Weight.data<float>().ToArray());
        var curve = sink.Series("val/accuracy");
        Assert.Equal(15, curve.Length);
        Assert.Equal(curve.Max(), cross.Runs[0].ValAccuracy);
        Assert.Equal(Array.IndexOf(curve, curve.Max()) * 100, cross.Runs[0].BestIteration);
        Assert.Equal(128 * 12, crossClassifier.TrainableParameters);
    }

    [Fact]
    public void DefaultsAreThePublishedLinearSetting()
    {
        var o = new CrossModalOptions();
        Assert.Empty(o.Validate());
        Assert.Equal(("cross-modal", "random", "dataset", "flip", 12800, 50, 1e-5, 100, 4.60517, false, 0.5),
            (o.Modality, o.Init, o.Templates, o.ImageAugmentation, o.Iterations, o.WarmupIterations, o.WarmupLr, o.EvalEvery, o.Logit, o.WiseFt, o.WiseFtRatio));
        Assert.Equal([1e-3, 1e-4], o.Lr);
        Assert.Equal([0.0, 0.01, 1e-4], o.WeightDecay);
        Assert.Equal([8, 32], o.BatchSize);
    }

    [Fact]
    public void BadOptionsAreNamed()
    {
        var problems = new CrossModalOptions
        {
            Modality = "both", Init = "ones", Templates = "all", ImageAugmentation = "crop", Lr = [0], WeightDecay = [-1], BatchSize = [0],
            Iterations = 0, WarmupIterations = -1, WarmupLr = 0, EvalEvery = 0, Logit = double.NaN, WiseFtRatio = 2,
        }.Validate().ToList();
        foreach (var name in new[] { "modality", "init", "templates", "imageAugmentation", "lr", "weightDecay", "batchSize", "iterations",
                     "warmupIterations", "warmupLr", "evalEvery", "logit", "wiseFtRatio" })
            Assert.Contains(problems, p => p.StartsWith(name + " "));
        Assert.Equal(13, problems.Count);
        Assert.Contains(new CrossModalOptions { Lr = [] }.Validate(), p => p.StartsWith("lr "));
        Assert.Empty(new CrossModalOptions { Modality = "uni-modal", BatchSize = [1] }.Validate());
    }

    /// <summary>A cell too small for every batch size is an error naming the option, as the official raises.</summary>
    [Fact]
    public void ACellWithNoValidBatchSizeIsAnError()
    {
        using var scope = NewDisposeScope();
        using var support = new MethodTestSupport();
        var context = support.Context(["cat", "dog"], shots: 1, views: 1);
        var e = Assert.Throws<InvalidOperationException>(() => new CrossModalMethod(new CrossModalOptions { Iterations = 2 }).Fit(context));
        Assert.StartsWith("batchSize:", e.Message);
    }

    [Fact]
    public void PluginRegistersWithTheFlipTransformTheImageNetPresetAndValidatedOptions()
    {
        var descriptor = MethodCatalog.Load().Get("cross-modal");
        Assert.Equal(typeof(CrossModalOptions).FullName, descriptor.OptionsType.FullName);
        Assert.Equal(("flip", true, 1.0), (descriptor.Augmentation!.Name, descriptor.Augmentation.CenterCrop, descriptor.Augmentation.FlipProbability));
        Assert.Equal("ensemble7", descriptor.PresetFor("imagenet")!.Values["templates"]);
        Assert.Null(descriptor.PresetFor("dtd"));
        IConfiguration Section(params (string, string)[] values) =>
            new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Item1, v.Item2))).Build();
        Assert.NotNull(descriptor.Create(Section(("modality", "uni-modal"), ("lr:0", "0.01"), ("wiseFt", "true"))));
        Assert.Contains("modality", Assert.Throws<MethodOptionsException>(() => descriptor.Create(Section(("modality", "text")))).Message);
        Assert.Contains("iterations", Assert.Throws<MethodOptionsException>(() => descriptor.Create(Section(("iterations", "0")))).Message);
        Assert.Contains("batchSize", Assert.Throws<MethodOptionsException>(() => descriptor.Create(Section(("batchSize:0", "1")))).Message);

        var (code, stdout, stderr) = Peft.Tests.Cli.PeftProcess.Run("methods");
        Assert.True(code == 0, stderr);
        Assert.Contains("\ncross-modal  —", stdout);
        Assert.Contains("flip: centre crop (evaluation geometry) + flip 1", stdout);
    }
}
