using Microsoft.Extensions.Configuration;
using Peft.Clip.Text;
using Peft.Core;
using Peft.Host.Plugins;
using Peft.Methods.ClipAdapter;
using static TorchSharp.torch;

namespace Peft.Tests.Methods;

public class ClipAdapterTests
{
    // D = 4, reduction 4 → hidden 1. down = [1, 0, 0, 1], up = [1, −1, 0.5, 2]ᵀ.
    static BottleneckAdapter HandAdapter() =>
        new(tensor(new float[] { 1, 0, 0, 1 }).reshape(1, 4), tensor(new float[] { 1, -1, 0.5f, 2 }).reshape(4, 1));

    static float[] Values(Tensor t) => t.to(ScalarType.Float32).data<float>().ToArray();

    [Fact]
    public void BlendingMatchesHandComputedValuesWithReluAfterBothLayers()
    {
        using var scope = NewDisposeScope();
        using var adapter = HandAdapter();
        // f = [2, −1, 0, 1]: hidden = 2 + 1 = 3; up → [3, −3, 1.5, 6]; second ReLU → [3, 0, 1.5, 6].
        // f' = 0.2·[3, 0, 1.5, 6] + 0.8·[2, −1, 0, 1] = [2.2, −0.8, 0.3, 2.0] (without the 2nd ReLU: −1.4 in slot 2).
        var f = tensor(new float[] { 2, -1, 0, 1 }).reshape(1, 4);
        Assert.Equal([3f, 0f, 1.5f, 6f], Values(adapter.Forward(f)));
        var blended = Values(adapter.Blend(f, 0.2));
        float[] expected = [2.2f, -0.8f, 0.3f, 2.0f];
        for (int i = 0; i < 4; i++) Assert.Equal(expected[i], blended[i], 5);

        // First ReLU: f = [−1, 0, 0, −1] → hidden −2 → 0 → A(f) = 0 → f' = 0.8·f.
        var g = tensor(new float[] { -1, 0, 0, -1 }).reshape(1, 4);
        Assert.Equal([0f, 0f, 0f, 0f], Values(adapter.Forward(g)));
        Assert.Equal([-0.8f, 0f, 0f, -0.8f], Values(adapter.Blend(g, 0.2)).Select(v => MathF.Round(v, 6)).ToArray());
    }

    [Fact]
    public void ClassifierLogitsAreScaledCosineOfTheBlendedFeature()
    {
        using var scope = NewDisposeScope();
        var w = tensor(new float[] { 1, 0, 0, 0, 0, 0, 0, 1 }).reshape(2, 4);
        using var classifier = new ClipAdapterClassifier(w.clone(), 100f, 0.2, HandAdapter(), null);
        var logits = Values(classifier.Logits(tensor(new float[] { 2, -1, 0, 1 }).reshape(1, 4)));
        // f' = [2.2, −0.8, 0.3, 2.0], |f'| = √9.57.
        double norm = Math.Sqrt(2.2 * 2.2 + 0.8 * 0.8 + 0.3 * 0.3 + 2.0 * 2.0);
        Assert.Equal(100 * 2.2 / norm, logits[0], 3);
        Assert.Equal(100 * 2.0 / norm, logits[1], 3);
    }

    [Fact]
    public void AdapterIsBiasFreeAndCountsTwoDTimesDOverFourWeights()
    {
        using var scope = NewDisposeScope();
        using var adapter = BottleneckAdapter.Initialise(32, 4, new Generator(5));
        Assert.Equal(2, adapter.Parameters.Count());
        Assert.Equal([8L, 32L], adapter.Down.shape);
        Assert.Equal([32L, 8L], adapter.Up.shape);
        // No bias anywhere: A(0) = 0 exactly.
        Assert.Equal(0f, adapter.Forward(zeros(3, 32)).abs().max().item<float>());
        // PyTorch's default Linear init bound 1/√fan_in.
        Assert.True(adapter.Down.abs().max().item<float>() <= 1 / MathF.Sqrt(32));
        Assert.True(adapter.Up.abs().max().item<float>() <= 1 / MathF.Sqrt(8));

        using var support = new MethodTestSupport();
        foreach (var (branch, adapters) in new[] { ("visual", 1), ("text", 1), ("both", 2) })
        {
            var context = support.Context(["cat", "dog"], shots: 2);
            using var classifier = new ClipAdapterMethod(new ClipAdapterOptions { Branch = branch, Epochs = 1, TrainViews = 2 }).Fit(context);
            Assert.Equal(adapters * 2L * 32 * 8, classifier.TrainableParameters);
            Assert.DoesNotContain(classifier.Weights.Keys, k => k.Contains("bias"));
            Assert.Equal(classifier.TrainableParameters,
                classifier.Weights.Where(kv => kv.Key != "text_classifier").Sum(kv => kv.Value.numel()));
        }
    }

    [Fact]
    public void LearningRateScheduleIsConstantWarmupThenCosinePerEpoch()
    {
        var o = new ClipAdapterOptions();
        const int E = 200;
        Assert.Equal(1e-5, ClipAdapterMethod.LearningRate(0, E, o));
        Assert.Equal(0.002, ClipAdapterMethod.LearningRate(1, E, o), 12);
        Assert.Equal(0.001, ClipAdapterMethod.LearningRate(E / 2 + 1, E, o), 12);
        Assert.Equal(0.001 * (1 + Math.Cos(Math.PI * (E - 2) / E)), ClipAdapterMethod.LearningRate(E - 1, E, o), 12);

        // The training loop uses it: the logged lr per epoch is the formula.
        using var scope = NewDisposeScope();
        using var support = new MethodTestSupport();
        var sink = new RecordingSink();
        var context = WithSink(support.Context(["cat", "dog"], shots: 2), sink);
        const int epochs = 6;
        using var _ = new ClipAdapterMethod(new ClipAdapterOptions { Epochs = epochs, TrainViews = 2 }).Fit(context);
        var lrs = sink.Series("train/lr");
        Assert.Equal(epochs, lrs.Length);
        Assert.Equal(1e-5, lrs[0]);
        for (int e = 1; e < epochs; e++) Assert.Equal(0.001 * (1 + Math.Cos(Math.PI * (e - 1) / epochs)), lrs[e], 12);
        Assert.Equal(epochs, sink.Series("train/loss").Length);
    }

    [Fact]
    public void EpochsDefaultByShotsAsCoOpAndBatchesFollowDasslDropLast()
    {
        var o = new ClipAdapterOptions();
        Assert.Equal([50, 100, 100, 200, 200], new[] { 1, 2, 4, 8, 16 }.Select(o.EpochsFor).ToArray());
        Assert.Equal(7, (o with { Epochs = 7 }).EpochsFor(16));
        Assert.Equal(1, DasslSchedule.BatchesPerEpoch(10, 32));  // N < batch: one short batch kept
        Assert.Equal(1, DasslSchedule.BatchesPerEpoch(40, 32));  // N ≥ batch: last partial batch dropped
        Assert.Equal(2, DasslSchedule.BatchesPerEpoch(64, 32));
    }

    /// <summary>
    /// A learnable problem: a stub text tower with distinct random class directions, and image features around class
    /// prototypes unrelated to them, so zero-shot is at chance and the adapter has to learn to move each prototype
    /// towards its class's text direction. Validation images are drawn like the training ones.
    /// </summary>
    /// With <paramref name="mislabelledVal"/> the validation images of class c come from class c + 1's prototype, so
    /// validation accuracy falls as training succeeds.
    static AdaptationContext LearnableContext(IMetricSink sink, int valPerClass = 8, bool mislabelledVal = false)
    {
        string[] classes = ["cat", "dog", "car", "tree"];
        const int shots = 8, d = 32;
        var g = new Generator(11);
        var encoder = new StubTextEncoder(randn([classes.Length, d], generator: g));
        var prototypes = randn([classes.Length, d], generator: g) * 3;
        Tensor Labels(int k) => arange(classes.Length, dtype: ScalarType.Int64).repeat_interleave(k);
        Tensor Sample(Tensor l) => prototypes.index_select(0, l) + randn([l.shape[0], d], generator: g) * 1.5;
        var labels = Labels(shots);
        var valLabels = Labels(valPerClass);
        var valSource = mislabelledVal ? (valLabels + 1).remainder(classes.Length) : valLabels;
        var features = new InMemoryTaskFeatures(Sample(labels), labels, stack([Sample(labels), Sample(labels)]), Sample(valSource), valLabels);
        return new AdaptationContext
        {
            Task = new FewShotTask("test", classes, ["a photo of a {}."], shots, 1), Features = features,
            TextEncoder = encoder, Tokenizer = ClipTokenizer.Default, Generator = new Generator(3), Metrics = sink,
        };
    }

    [Fact]
    public void LossDecreasesOnALearnableProblem()
    {
        using var scope = NewDisposeScope();
        var sink = new RecordingSink();
        using var classifier = new ClipAdapterMethod(new ClipAdapterOptions { Epochs = 20, BatchSize = 8, TrainViews = 2 })
            .Fit(LearnableContext(sink));
        var losses = sink.Series("train/loss");
        Assert.Equal(20, losses.Length);
        Assert.True(losses[^1] < 0.5 * losses[1], $"loss {losses[1]} → {losses[^1]}");
    }

    [Fact]
    public void Bf16TrainingKeepsFp32AdaptersAndLearnsAsFp32Does()
    {
        using var scope = NewDisposeScope();
        var options = new ClipAdapterOptions { Epochs = 20, BatchSize = 8, TrainViews = 2, Branch = "both" };
        var (sink32, sink16) = (new RecordingSink(), new RecordingSink());
        using var fp32 = new ClipAdapterMethod(options).Fit(LearnableContext(sink32));
        using var bf16 = (ClipAdapterClassifier)new ClipAdapterMethod(options with { Precision = "bf16" }).Fit(LearnableContext(sink16));
        foreach (var name in new[] { "visual_adapter.fc.0.weight", "visual_adapter.fc.2.weight", "text_adapter.fc.0.weight", "text_adapter.fc.2.weight" })
        {
            var (a, b) = (fp32.Weights[name], bf16.Weights[name]);
            Assert.Equal(ScalarType.Float32, b.dtype);   // master weights in fp32
            double apart = (b - a).norm().item<float>() / a.norm().item<float>();
            Assert.True(apart > 0 && apart < 0.05, $"{name}: bf16 weights {apart:E2} from fp32 (relative)");
        }
        var (losses32, losses16) = (sink32.Series("train/loss"), sink16.Series("train/loss"));
        Assert.True(losses16[^1] < 0.5 * losses16[1], $"bf16 loss {losses16[1]} → {losses16[^1]}");
        Assert.Equal(losses32[^1], losses16[^1], 0.05 * losses32[^1]);

        // The bf16 forward (products in bf16) is the fp32 one to bf16's precision, and its gradient reaches the fp32 weights.
        var x = randn([6, 32], generator: new Generator(4)) * 3;
        var logits32 = bf16.Forward(x);
        var logits16 = bf16.Forward(x, ScalarType.BFloat16);
        Assert.Equal(ScalarType.Float32, logits16.dtype);
        Assert.True(logits16.allclose(logits32, 3e-2, 0.3), $"max |Δ| {(logits16 - logits32).abs().max().item<float>()}");
        logits16.sum().backward();
        Assert.Equal(ScalarType.Float32, bf16.Visual!.Down.grad!.dtype);
        Assert.Contains(new ClipAdapterOptions { Precision = "fp16" }.Validate(), m => m.StartsWith("precision") && m.Contains("'fp16'"));
    }

    /// <summary>A text tower whose features for the i-th prompt of a batch are row i of a fixed matrix.</summary>
    sealed class StubTextEncoder(Tensor rows) : IFrozenTextEncoder
    {
        public int ContextLength => 77;
        public int TextWidth => (int)rows.shape[1];
        public int EmbedDim => (int)rows.shape[1];
        public float LogitScale => 100f;
        public Tensor EncodeText(Tensor tokens) => rows.narrow(0, 0, tokens.shape[0]).clone();
        public Tensor EmbedTokens(Tensor tokens) => throw new NotSupportedException();
        public Tensor EncodeTokenEmbeddings(Tensor embeddings, Tensor eotIndex) => throw new NotSupportedException();
    }

    static AdaptationContext WithSink(AdaptationContext c, IMetricSink sink) => new()
    {
        Task = c.Task, Features = c.Features, TextEncoder = c.TextEncoder, Tokenizer = c.Tokenizer, Generator = c.Generator, Metrics = sink,
    };

    [Fact]
    public void SameGeneratorSeedGivesBitIdenticalLogits()
    {
        using var scope = NewDisposeScope();
        using var support = new MethodTestSupport();
        var options = new ClipAdapterOptions { Epochs = 5, BatchSize = 4, TrainViews = 2, Branch = "both" };
        var image = randn([5, support.Clip.Model.EmbedDim], generator: new Generator(9));
        Tensor Run(ulong seed)
        {
            using var classifier = new ClipAdapterMethod(options).Fit(support.Context(["cat", "dog", "car"], shots: 4, seed: seed));
            return classifier.Logits(image).clone();
        }
        var a = Run(1);
        var b = Run(1);
        Assert.True(a.eq(b).all().item<bool>());
        Assert.False(a.eq(Run(2)).all().item<bool>());
    }

    [Fact]
    public void TextAndBothBranchesChangeOnlyTheirSide()
    {
        using var scope = NewDisposeScope();
        using var support = new MethodTestSupport();
        var model = support.Clip.Model;
        var image = randn([4, model.EmbedDim], generator: new Generator(4));
        var zeroShotW = TextClassifier.Build(model, ClipTokenizer.Default, ["cat", "dog", "car"], ["a photo of a {}."]);
        ClipAdapterClassifier Fit(string branch) => (ClipAdapterClassifier)new ClipAdapterMethod(
            new ClipAdapterOptions { Branch = branch, Epochs = 3, TrainViews = 2 }).Fit(support.Context(["cat", "dog", "car"], shots: 2));

        Tensor Blend(Tensor x, Tensor down, Tensor up) =>
            0.2 * nn.functional.relu(nn.functional.relu(x.matmul(down.t())).matmul(up.t())) + 0.8 * x;

        using (var visual = Fit("visual"))
        {
            var w = visual.Weights;
            Assert.False(w.ContainsKey("text_adapter.fc.0.weight"));
            Assert.True(w["text_classifier"].allclose(zeroShotW, 1e-5, 1e-6));
            Assert.True(visual.AdaptedTextWeights().eq(w["text_classifier"]).all().item<bool>()); // no text adapter: W untouched
            var expected = nn.functional.normalize(Blend(image, w["visual_adapter.fc.0.weight"], w["visual_adapter.fc.2.weight"]), dim: -1)
                .matmul(zeroShotW.t()) * model.LogitScale;
            Assert.True(visual.Logits(image).allclose(expected, 1e-4, 1e-5));
        }
        using (var text = Fit("text"))
        {
            var w = text.Weights;
            Assert.False(w.ContainsKey("visual_adapter.fc.0.weight"));
            var adaptedW = nn.functional.normalize(Blend(zeroShotW, w["text_adapter.fc.0.weight"], w["text_adapter.fc.2.weight"]), dim: -1);
            Assert.False(adaptedW.allclose(zeroShotW, 1e-3, 1e-4)); // the text side did change
            var expected = nn.functional.normalize(image, dim: -1).matmul(adaptedW.t()) * model.LogitScale; // image side untouched
            Assert.True(text.Logits(image).allclose(expected, 1e-4, 1e-5));
        }
        using (var both = Fit("both"))
        {
            var w = both.Weights;
            var adaptedW = nn.functional.normalize(Blend(zeroShotW, w["text_adapter.fc.0.weight"], w["text_adapter.fc.2.weight"]), dim: -1);
            var f = nn.functional.normalize(Blend(image, w["visual_adapter.fc.0.weight"], w["visual_adapter.fc.2.weight"]), dim: -1);
            Assert.False(adaptedW.allclose(zeroShotW, 1e-3, 1e-4));
            Assert.False(f.allclose(nn.functional.normalize(image, dim: -1), 1e-3, 1e-4));
            Assert.True(both.Logits(image).allclose(f.matmul(adaptedW.t()) * model.LogitScale, 1e-4, 1e-5));
        }
    }

    [Fact]
    public void BestValSelectionReturnsTheBestValidationEpoch()
    {
        using var scope = NewDisposeScope();
        Tensor ValAccuracies(string select, RecordingSink sink, out double final)
        {
            var context = LearnableContext(sink, mislabelledVal: true);
            using var classifier = new ClipAdapterMethod(new ClipAdapterOptions { Epochs = 12, BatchSize = 8, TrainViews = 2, Select = select }).Fit(context);
            var predicted = classifier.Logits(context.Features.ValFeatures()).argmax(1);
            final = predicted.eq(context.Features.ValLabels).to(ScalarType.Float64).mean().item<double>();
            return tensor(sink.Series("val/accuracy"));
        }
        var best = new RecordingSink();
        var accuracies = ValAccuracies("best-val", best, out double bestFinal).data<double>().ToArray();
        Assert.Equal(12, accuracies.Length);
        Assert.Equal(accuracies.Max(), bestFinal, 9);
        // Here the last epoch is not the best one, so returning it would fail the check above; "last" returns it.
        Assert.True(accuracies[^1] < accuracies.Max(), string.Join(", ", accuracies));
        Assert.Empty(ValAccuracies("last", new RecordingSink(), out double lastFinal).data<double>().ToArray()); // no val pass for "last"
        Assert.Equal(accuracies[^1], lastFinal, 9);
    }

    [Fact]
    public void PluginRegistersAndValidatesOptions()
    {
        var descriptor = MethodCatalog.Load().Get("clip-adapter");
        Assert.Equal(typeof(ClipAdapterOptions).FullName, descriptor.OptionsType.FullName);
        IConfiguration Section(params (string, string)[] values) =>
            new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Item1, v.Item2))).Build();
        Assert.NotNull(descriptor.Create(Section(("branch", "both"), ("alpha", "0.6"), ("epochs", "20"), ("select", "best-val"))));
        Assert.Contains("alpha", Assert.Throws<MethodOptionsException>(() => descriptor.Create(Section(("alpha", "1.5")))).Message);
        Assert.Contains("branch", Assert.Throws<MethodOptionsException>(() => descriptor.Create(Section(("branch", "image")))).Message);
        Assert.Contains("epochs", Assert.Throws<MethodOptionsException>(() => descriptor.Create(Section(("epochs", "0")))).Message);
        Assert.Contains("select", Assert.Throws<MethodOptionsException>(() => descriptor.Create(Section(("select", "best")))).Message);
        Assert.Contains("'ratio'", Assert.Throws<MethodOptionsException>(() => descriptor.Create(Section(("ratio", "0.2")))).Message);

        var o = new ClipAdapterOptions();
        Assert.Empty(o.Validate());
        Assert.Equal((4, 0.2, "visual", "dataset", (int?)null, 32, 0.002, 0.9, 5e-4, 1, 1e-5, 10, "last"),
            (o.Reduction, o.Alpha, o.Branch, o.Templates, o.Epochs, o.BatchSize, o.Lr, o.Momentum, o.WeightDecay, o.WarmupEpochs, o.WarmupLr, o.TrainViews, o.Select));
        foreach (var bad in new[] { o with { Reduction = 0 }, o with { BatchSize = 0 }, o with { Lr = 0 }, o with { Momentum = 1 },
                     o with { WeightDecay = -1 }, o with { WarmupEpochs = -1 }, o with { WarmupLr = 0 }, o with { TrainViews = 0 }, o with { Templates = "x" } })
            Assert.Single(bad.Validate());
    }
}
