using Microsoft.Extensions.Configuration;
using Peft.Clip.Text;
using Peft.Core;
using Peft.Host.Plugins;
using Peft.Methods.TipAdapter;
using static TorchSharp.torch;

namespace Peft.Tests.Methods;

public class TipAdapterTests
{
    static Tensor T(double[,] values)
    {
        int r = values.GetLength(0), c = values.GetLength(1);
        var flat = new float[r * c];
        for (int i = 0; i < r; i++) for (int j = 0; j < c; j++) flat[i * c + j] = (float)values[i, j];
        return tensor(flat, [r, c]);
    }

    [Fact]
    public void LogitsMatchAHandComputedExample()
    {
        using var scope = NewDisposeScope();
        // C = 2 classes, N = 3 cache entries (labels 0, 1, 1), D = 3.
        var w = T(new double[,] { { 1, 0, 0 }, { 0, 1, 0 } });
        var keys = T(new double[,] { { 1, 0, 0 }, { 0, 1, 0 }, { 0, 0, 1 } });
        var values = T(new double[,] { { 1, 0 }, { 0, 1 }, { 0, 1 } });
        double alpha = 1.5, beta = 2;
        using var classifier = new TipAdapterClassifier(w.clone(), keys.clone(), values.clone(), alpha, beta, 100, 0);

        // x1 = (3, 4, 0) → f = (0.6, 0.8, 0); clip = 100·(0.6, 0.8); A = (0.6, 0.8, 0).
        // x2 = (0, 0, 2) → f = (0, 0, 1);     clip = (0, 0);          A = (0, 0, 1).
        var logits = classifier.Logits(T(new double[,] { { 3, 4, 0 }, { 0, 0, 2 } }));
        double[] expected =
        [
            60 + alpha * Math.Exp(-beta * (1 - 0.6)),
            80 + alpha * (Math.Exp(-beta * (1 - 0.8)) + Math.Exp(-beta * (1 - 0))),
            0 + alpha * Math.Exp(-beta * (1 - 0)),
            0 + alpha * (Math.Exp(-beta * (1 - 0)) + Math.Exp(-beta * (1 - 1))),
        ];
        var actual = logits.to(ScalarType.Float64).data<double>().ToArray();
        Assert.Equal([2L, 2L], logits.shape);
        for (int i = 0; i < 4; i++) Assert.Equal(expected[i], actual[i], 4);
        Assert.Equal(0, classifier.TrainableParameters);
        Assert.True(classifier.Weights["cache_keys"].equal(keys).all().item<bool>());
        Assert.True(classifier.Weights["cache_values"].equal(values).all().item<bool>());
        Assert.True(classifier.Weights["clip_weights"].equal(w).all().item<bool>());
    }

    [Fact]
    public void SearchGridIsTheOfficialOne()
    {
        var defaults = new TipAdapterOptions();
        Assert.Equal([7.0, 3.0], defaults.SearchScale!);
        Assert.Equal([200, 20], defaults.SearchStep!);
        Assert.Equal(TipCache.Grid(7, 200), defaults.BetaGrid());
        Assert.Equal(TipCache.Grid(3, 20), defaults.AlphaGrid());
        Assert.Equal(TipCache.Grid(12, 20), new TipAdapterOptions { SearchScale = [12, 10], SearchStep = [20, 5] }.BetaGrid());
        Assert.Equal(TipCache.Grid(10, 5), new TipAdapterOptions { SearchScale = [12, 10], SearchStep = [20, 5] }.AlphaGrid());
        var betas = TipCache.Grid(7, 200);
        var alphas = TipCache.Grid(3, 20);
        Assert.Equal(200, betas.Length);
        Assert.Equal(20, alphas.Length);
        Assert.Equal(0.1, betas[0], 12);
        Assert.Equal(0.1 + 6.9 / 200, betas[1], 12);
        Assert.Equal(6.9655, betas[^1], 12);    // 199·6.9/200 + 0.1
        Assert.Equal(0.1, alphas[0], 12);
        Assert.Equal(2.855, alphas[^1], 12);    // 19·2.9/20 + 0.1
        Assert.Equal(10.81, TipCache.Grid(12, 10)[^1], 12);   // 9·11.9/10 + 0.1
    }

    [Fact]
    public void SearchPicksTheBestValidationSettingAndTheFirstOfEquals()
    {
        using var scope = NewDisposeScope();
        // Two val images of class 0, both with affinity (1, 0) to cache entries labelled 0 and 1:
        // logits = (α, c + α e^(−β)); right iff α(1 − e^(−β)) > c, with c = 1 for the first image, 1.5 for the second.
        var values = T(new double[,] { { 1, 0 }, { 0, 1 } });
        var affinity = T(new double[,] { { 1, 0 }, { 1, 0 } });
        var clipLogits = T(new double[,] { { 0, 1 }, { 0, 1.5 } });
        var labels = tensor(new long[] { 0, 0 });
        double[] betas = [0.1, 1, 3], alphas = [0.5, 1.2, 2];
        // β = 1: α = 2 gives 1.26 (first image only); β = 3: α = 1.2 gives 1.14 (first only), α = 2 gives 1.90 (both).
        Assert.Equal((3.0, 2.0, 2L), TipCache.Search(clipLogits, affinity, values, labels, betas, alphas));
        // Only the first image: (1, 2) and (3, 1.2) and (3, 2) all get it right; the first found is kept.
        Assert.Equal((1.0, 2.0, 1L), TipCache.Search(clipLogits[..1], affinity[..1], values, labels[..1], betas, alphas));
    }

    [Fact]
    public void FitBuildsTheCacheFromTheMeanOfTheViewsAndSearchesOnVal()
    {
        using var scope = NewDisposeScope();
        using var support = new MethodTestSupport();
        var sink = new RecordingSink();
        var context = WithSink(support.Context(["cat", "dog", "red circle"], shots: 2, views: 3, valPerClass: 3), sink);
        var options = new TipAdapterOptions { AugmentViews = 3, SearchScale = [5, 4], SearchStep = [10, 6] };
        using var classifier = (TipAdapterClassifier)new TipAdapter(options).Fit(context);

        var views = context.Features.TrainViews(3);
        var keys = nn.functional.normalize(views.sum([0]) / 3, dim: -1);
        Assert.True(classifier.Weights["cache_keys"].allclose(keys, 1e-5, 1e-6));
        Assert.True(classifier.Weights["cache_values"].equal(T(new double[,] { { 1, 0, 0 }, { 1, 0, 0 }, { 0, 1, 0 }, { 0, 1, 0 }, { 0, 0, 1 }, { 0, 0, 1 } })).all().item<bool>());
        var w = TextClassifier.Build(support.Clip.Model, ClipTokenizer.Default, context.Task.ClassNames, context.Task.Templates);
        Assert.True(classifier.Weights["clip_weights"].allclose(w, 1e-5, 1e-6));

        // The chosen setting is on the grid and is the search's answer on the validation features.
        Assert.Contains(classifier.Beta, TipCache.Grid(5, 10));
        Assert.Contains(classifier.Alpha, TipCache.Grid(4, 6));
        var f = nn.functional.normalize(context.Features.ValFeatures(), dim: -1);
        var found = TipCache.Search(f.matmul(w.t()) * 100, f.matmul(keys.t()), classifier.Weights["cache_values"],
            context.Features.ValLabels, TipCache.Grid(5, 10), TipCache.Grid(4, 6));
        Assert.Equal((found.Beta, found.Alpha), (classifier.Beta, classifier.Alpha));
        Assert.Equal(found.Alpha, sink.Entries.Single(e => e.Name == "tip-adapter/alpha").Value);
        Assert.Equal(found.Beta, sink.Entries.Single(e => e.Name == "tip-adapter/beta").Value);
        Assert.Equal(found.Correct / 9.0, sink.Entries.Single(e => e.Name == "tip-adapter/val_accuracy").Value, 12);

        // Logits = the formula on the test-time features.
        var x = randn([5, support.Clip.Model.EmbedDim], generator: new Generator(9));
        var fx = nn.functional.normalize(x, dim: -1);
        var manual = fx.matmul(w.t()) * 100 + ((fx.matmul(keys.t()) - 1) * classifier.Beta).exp().matmul(classifier.Weights["cache_values"]) * classifier.Alpha;
        Assert.True(classifier.Logits(x).allclose(manual, 1e-4, 1e-4));

        // Without search, the init values are used.
        using var fixedSetting = (TipAdapterClassifier)new TipAdapter(options with { Search = false }).Fit(context);
        Assert.Equal((1.0, 1.17), (fixedSetting.Beta, fixedSetting.Alpha));
    }

    static AdaptationContext WithSink(AdaptationContext c, IMetricSink sink, Generator? generator = null) => new()
    {
        Task = c.Task, Features = c.Features, TextEncoder = c.TextEncoder, Tokenizer = c.Tokenizer,
        Generator = generator ?? c.Generator, Metrics = sink,
    };

    /// <summary>A learnable problem: C classes, each a random direction; features = direction + noise.</summary>
    static AdaptationContext Separable(MethodTestSupport support, int classes, int shots, int views, ulong seed, RecordingSink sink,
        bool valLabelsShuffled = false)
    {
        var g = new Generator(seed);
        int d = support.Clip.Model.EmbedDim, n = classes * shots;
        var directions = nn.functional.normalize(randn([classes, d], generator: g), dim: -1) * 3;
        var labels = arange(classes, dtype: ScalarType.Int64).repeat_interleave(shots);
        var train = directions.index_select(0, labels) + randn([n, d], generator: g);
        var trainViews = train.unsqueeze(0) + randn([views, n, d], generator: g);
        var valLabels = valLabelsShuffled ? (labels + 1) % classes : labels;
        var val = directions.index_select(0, labels) + randn([n, d], generator: g);
        return new AdaptationContext
        {
            Task = new FewShotTask("separable", Enumerable.Range(0, classes).Select(c => $"class {c}").ToArray(), ["a photo of a {}."], shots, 1),
            Features = new InMemoryTaskFeatures(train, labels, trainViews, val, valLabels),
            TextEncoder = support.Clip.Model, Tokenizer = ClipTokenizer.Default, Generator = new Generator(seed + 100), Metrics = sink,
        };
    }

    static TipAdapterF.TrainResult TrainOn(AdaptationContext context, TipAdapterFOptions options, out Tensor initialKeys)
    {
        int classes = context.Task.NumClasses;
        initialKeys = TipCache.Keys(context.Features.TrainViews(options.AugmentViews));
        var values = TipCache.Values(context.Features.TrainLabels, classes);
        var noText = zeros(classes, context.Features.Dim);   // the cache alone carries the logits
        return TipAdapterF.Train(options, context, noText, initialKeys, values);
    }

    [Fact]
    public void FineTuningLowersTheLossAndChangesTheKeys()
    {
        using var scope = NewDisposeScope();
        using var support = new MethodTestSupport();
        var sink = new RecordingSink();
        var context = Separable(support, classes: 4, shots: 8, views: 4, seed: 5, sink);
        var options = new TipAdapterFOptions { AugmentViews = 4, TrainViews = 4, Epochs = 10, BatchSize = 8, InitBeta = 5 };
        var result = TrainOn(context, options, out var initial);

        Assert.Equal(10, result.EpochLosses.Count);
        Assert.True(result.EpochLosses[^1] < result.EpochLosses[0] - 1e-3, $"loss {result.EpochLosses[0]} → {result.EpochLosses[^1]}");
        Assert.False(result.Keys.allclose(initial, 1e-4, 1e-4));
        Assert.Equal(initial.shape, result.Keys.shape);
        Assert.Equal(9, result.SelectedEpoch);
        var logged = sink.Entries.Where(e => e.Name == "tip-adapter-f/train_loss").ToList();
        Assert.Equal(Enumerable.Range(0, 10), logged.Select(e => e.Step));
        Assert.Equal(result.EpochLosses, logged.Select(e => e.Value));

        var one = TrainOn(context, options with { Epochs = 1 }, out _);
        Assert.False(one.Keys.allclose(initial, 1e-6, 1e-6));
        // The weight decay is passed to AdamW (TorchSharp's default would be 0): decoupled decay shrinks the keys.
        var noDecay = TrainOn(context, options with { WeightDecay = 0 }, out _);
        Assert.True(noDecay.Keys.norm().item<float>() > result.Keys.norm().item<float>());
    }

    [Fact]
    public void Bf16TrainingKeepsFp32KeysAndLearnsAsFp32Does()
    {
        using var scope = NewDisposeScope();
        using var support = new MethodTestSupport();
        var context = Separable(support, classes: 4, shots: 8, views: 4, seed: 5, new RecordingSink());
        var options = new TipAdapterFOptions { AugmentViews = 4, TrainViews = 4, Epochs = 10, BatchSize = 8, InitBeta = 5 };
        var fp32 = TrainOn(context, options, out var initial);
        var bf16 = TrainOn(context, options with { Precision = "bf16" }, out _);
        Assert.Equal(ScalarType.Float32, bf16.Keys.dtype);   // master weights in fp32
        double moved = (fp32.Keys - initial).norm().item<float>(), apart = (bf16.Keys - fp32.Keys).norm().item<float>();
        Assert.True(apart > 0, "bf16 training computed exactly as fp32");
        // AdamW's update is about lr · sign(g) where |g| is small, so bf16 rounding moves such keys apart: measured 24%.
        Assert.True(apart < 0.4 * moved, $"fp32 training moved the keys by {moved}, bf16 ends {apart} from fp32");
        Assert.True(bf16.EpochLosses[^1] < bf16.EpochLosses[0] - 1e-3, $"bf16 loss {bf16.EpochLosses[0]} → {bf16.EpochLosses[^1]}");
        Assert.Equal(fp32.EpochLosses[^1], bf16.EpochLosses[^1], 0.05 * fp32.EpochLosses[^1]);
        Assert.Contains(new TipAdapterFOptions { Precision = "fp16" }.Validate(), m => m.StartsWith("precision") && m.Contains("'fp16'"));
    }

    [Fact]
    public void CosineScheduleIsStepwiseOverEpochsTimesIterations()
    {
        using var scope = NewDisposeScope();
        using var support = new MethodTestSupport();
        // N = 3 classes × 2 shots = 6, batch 4 → 2 iterations per epoch (last batch partial), 3 epochs → T_max = 6.
        var context = Separable(support, classes: 3, shots: 2, views: 2, seed: 2, new RecordingSink());
        var result = TrainOn(context, new TipAdapterFOptions { AugmentViews = 2, TrainViews = 2, Epochs = 3, BatchSize = 4 }, out _);
        Assert.Equal(6, result.LearningRates.Count);
        Assert.Equal(0.001, result.LearningRates[0], 12);
        Assert.Equal(0.0005, result.LearningRates[3], 12);                 // cos(π/2) = 0
        Assert.Equal(0.001 * (1 - Math.Sqrt(3) / 2) / 2, result.LearningRates[5], 12);   // cos(5π/6)
        for (int t = 0; t < 6; t++)
            Assert.Equal(0.001 * (1 + Math.Cos(Math.PI * t / 6)) / 2, result.LearningRates[t], 12);
    }

    [Fact]
    public void BestValKeepsTheBestValidationEpoch()
    {
        using var scope = NewDisposeScope();
        using var support = new MethodTestSupport();
        var sink = new RecordingSink();
        // Validation labels are the training labels shifted by one: learning the training classes can only hurt val.
        var context = Separable(support, classes: 4, shots: 8, views: 4, seed: 5, sink, valLabelsShuffled: true);
        var options = new TipAdapterFOptions { AugmentViews = 4, TrainViews = 4, Epochs = 10, BatchSize = 8, InitBeta = 5, Select = "best-val" };
        var best = TrainOn(context, options, out _);
        var accuracies = sink.Entries.Where(e => e.Name == "tip-adapter-f/epoch_val_accuracy").Select(e => e.Value).ToList();
        Assert.Equal(10, accuracies.Count);
        Assert.Equal(accuracies.IndexOf(accuracies.Max()), best.SelectedEpoch);
        Assert.True(best.SelectedEpoch < 9, $"val accuracies {string.Join(", ", accuracies)}");
        var last = TrainOn(context, options with { Select = "last" }, out _);
        Assert.Equal(9, last.SelectedEpoch);
        Assert.Equal(best.SelectedEpoch == 9, best.Keys.equal(last.Keys).all().item<bool>());
    }

    [Fact]
    public void TipAdapterFIsDeterministicGivenTheGeneratorAndCountsTheKeys()
    {
        using var scope = NewDisposeScope();
        using var support = new MethodTestSupport();
        var options = new TipAdapterFOptions { AugmentViews = 2, TrainViews = 2, Epochs = 3, BatchSize = 2, SearchStep = [20, 5] };
        var x = randn([4, support.Clip.Model.EmbedDim], generator: new Generator(11));
        Tensor Run(ulong generatorSeed, out long parameters)
        {
            var c = support.Context(["cat", "dog", "red circle"], shots: 2, views: 2);
            using var classifier = new TipAdapterF(options).Fit(WithSink(c, new RecordingSink(), new Generator(generatorSeed)));
            parameters = classifier.TrainableParameters;
            return classifier.Logits(x).clone();
        }
        var a = Run(7, out long count);
        var b = Run(7, out _);
        var other = Run(8, out _);
        Assert.Equal(6L * support.Clip.Model.EmbedDim, count);
        Assert.True(a.equal(b).all().item<bool>());
        Assert.False(a.equal(other).all().item<bool>());   // batches of 2 in another order
    }

    [Fact]
    public void OptionsAreValidatedByName()
    {
        Assert.Empty(new TipAdapterOptions().Validate());
        Assert.Empty(new TipAdapterFOptions().Validate());
        var problems = new TipAdapterFOptions
        {
            AugmentViews = 0, Templates = "ensemble80", SearchScale = [7], SearchStep = [200, 0], InitAlpha = -1,
            Epochs = 0, BatchSize = 0, TrainViews = 0, Select = "best-any", LearningRate = 0,
        }.Validate().ToList();
        foreach (var name in new[] { "augmentViews", "templates", "searchScale", "searchStep", "initAlpha", "epochs", "batchSize", "trainViews", "select", "learningRate" })
            Assert.Contains(problems, p => p.StartsWith(name));
        Assert.Equal(10, problems.Count);
        Assert.Contains("best-any", problems.Single(p => p.StartsWith("select")));
    }

    [Fact]
    public void CatalogRegistersBothMethodsAndBindsTheirOptions()
    {
        var catalog = MethodCatalog.Load();
        Assert.Equal(typeof(TipAdapterOptions).FullName, catalog.Get("tip-adapter").OptionsType.FullName);
        Assert.Equal(typeof(TipAdapterFOptions).FullName, catalog.Get("tip-adapter-f").OptionsType.FullName);

        IConfiguration Section(params (string, string)[] values) =>
            new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Item1, v.Item2))).Build();
        var bound = MethodOptionsBinder.Bind<TipAdapterFOptions>("tip-adapter-f",
            Section(("searchScale:0", "12"), ("searchScale:1", "10"), ("epochs", "100"), ("select", "best-val")));
        Assert.Equal([12.0, 10.0], bound.SearchScale!);
        Assert.Equal(100, bound.Epochs);
        Assert.Equal(0.01, bound.WeightDecay);
        var bad = Assert.Throws<MethodOptionsException>(() => catalog.Get("tip-adapter-f").Create(Section(("epochs", "0"))));
        Assert.Contains("epochs", bad.Message);
        Assert.NotNull(catalog.Get("tip-adapter").Create(Section(("templates", "ensemble7"))));
    }
}
