using Peft.Core;
using Peft.Methods.TipAdapter;
using static TorchSharp.torch;

namespace Peft.Tests.Methods;

/// <summary>The official selection rules of Tip-Adapter(-F), which read the oracle data of the as-published protocol.</summary>
public class TipAdapterAsPublishedTests
{
    sealed class Sink : IMetricSink
    {
        public List<(string Name, double Value, int Step)> Entries { get; } = [];
        public void Log(string name, double value, int step = 0) => Entries.Add((name, value, step));
    }

    sealed class Oracle(Tensor test, Tensor testLabels, Tensor fullVal, Tensor fullValLabels) : IOracleData
    {
        public int Reads { get; private set; }
        public Tensor FullValFeatures() { Reads++; return fullVal; }
        public Tensor FullValLabels => fullValLabels;
        public Tensor TestFeatures() { Reads++; return test; }
        public Tensor TestLabels => testLabels;
    }

    /// <summary>A context whose test set is near the training features (so fitting it is possible), with oracle data.</summary>
    static (AdaptationContext Context, Oracle Oracle, Sink Sink) Setup(MethodTestSupport support, bool withOracle, int classes = 3, int shots = 4)
    {
        var g = new Generator(11);
        var context = support.Context(Enumerable.Range(0, classes).Select(c => $"class {c}").ToArray(), shots, views: 3, valPerClass: 2);
        var train = context.Features.TrainFeatures();
        var test = train + randn(train.shape, generator: g) * 0.5;
        var fullVal = train + randn(train.shape, generator: g) * 0.8;
        var oracle = new Oracle(test, context.Features.TrainLabels, fullVal, context.Features.TrainLabels);
        var sink = new Sink();
        var result = new AdaptationContext
        {
            Task = context.Task, Features = context.Features, TextEncoder = context.TextEncoder, Tokenizer = context.Tokenizer,
            Generator = context.Generator, Metrics = sink, Oracle = withOracle ? oracle : null,
        };
        return (result, oracle, sink);
    }

    static long Correct(IFeatureClassifier c, Tensor features, Tensor labels) => c.Logits(features).argmax(1).eq(labels).sum().item<long>();

    [Fact]
    public void WithoutTheOracleTheOfficialRulesFailWithAClearMessage()
    {
        using var scope = NewDisposeScope();
        using var support = new MethodTestSupport();
        var (context, _, _) = Setup(support, withOracle: false);
        foreach (var split in new[] { "test", "full-val" })
        {
            var e = Assert.Throws<InvalidOperationException>(() => new TipAdapter(new TipAdapterOptions { AugmentViews = 3, SearchOn = split }).Fit(context));
            Assert.Contains("as-published", e.Message);
        }
        var f = Assert.Throws<InvalidOperationException>(() =>
            new TipAdapterF(new TipAdapterFOptions { AugmentViews = 3, TrainViews = 3, Epochs = 2, Select = "best-test" }).Fit(context));
        Assert.Contains("as-published", f.Message);
        Assert.False(new TipAdapterFOptions().UsesOracle);
        Assert.True(new TipAdapterOptions { SearchOn = "test" }.UsesOracle);
        Assert.True(new TipAdapterFOptions { MaxBestFinal = true }.UsesOracle);
    }

    [Fact]
    public void TipAdapterSearchesOnTheSplitItIsTold()
    {
        using var scope = NewDisposeScope();
        using var support = new MethodTestSupport();
        var (context, oracle, sink) = Setup(support, withOracle: true);
        var options = new TipAdapterOptions { AugmentViews = 3, SearchScale = [8, 6], SearchStep = [12, 8], InitAlpha = 0.3, InitBeta = 0.2 };
        using var onTest = (TipAdapterClassifier)new TipAdapter(options with { SearchOn = "test" }).Fit(context);
        Assert.True(oracle.Reads > 0);
        // The search's answer is the best grid point on test: no grid point does better there.
        long best = Correct(onTest, oracle.TestFeatures(), oracle.TestLabels);
        Assert.Equal((double)best / oracle.TestLabels.shape[0], sink.Entries.Single(e => e.Name == "tip-adapter/search_accuracy").Value, 12);
        foreach (var beta in options.BetaGrid())
            foreach (var alpha in new[] { options.AlphaGrid()[0], options.AlphaGrid()[^1] })
            {
                using var other = (TipAdapterClassifier)new TipAdapter(options with { Search = false, InitAlpha = alpha, InitBeta = beta }).Fit(context);
                Assert.True(Correct(other, oracle.TestFeatures(), oracle.TestLabels) <= best);
            }
        using var onVal = (TipAdapterClassifier)new TipAdapter(options).Fit(context);
        Assert.True(Correct(onVal, oracle.TestFeatures(), oracle.TestLabels) <= best);
        int reads = oracle.Reads;
        using var onFullVal = (TipAdapterClassifier)new TipAdapter(options with { SearchOn = "full-val" }).Fit(context);
        Assert.True(oracle.Reads > reads);
        Assert.True(Correct(onFullVal, oracle.FullValFeatures(), oracle.FullValLabels) >= Correct(onVal, oracle.FullValFeatures(), oracle.FullValLabels));
    }

    [Fact]
    public void TipAdapterFKeepsTheBestTestEpochAndReportsTheMaximumOfBestAndFinal()
    {
        using var scope = NewDisposeScope();
        using var support = new MethodTestSupport();
        var (context, oracle, sink) = Setup(support, withOracle: true);
        var options = new TipAdapterFOptions
        {
            AugmentViews = 3, TrainViews = 3, Epochs = 6, BatchSize = 4, LearningRate = 0.01, SearchScale = [5, 4], SearchStep = [10, 6],
            Select = "best-test", SearchOn = "full-val", MaxBestFinal = true,
        };
        using var classifier = (TipAdapterClassifier)new TipAdapterF(options).Fit(context);
        var epochs = sink.Entries.Where(e => e.Name == "tip-adapter-f/epoch_test_accuracy").Select(e => e.Value).ToList();
        Assert.Equal(6, epochs.Count);
        // main.py: the best epoch's test accuracy at init α/β is best_acc; the result is max(best_acc, acc after the search).
        double final = (double)Correct(classifier, oracle.TestFeatures(), oracle.TestLabels) / oracle.TestLabels.shape[0];
        Assert.True(final >= epochs.Max() - 1e-12, $"final {final}, epochs {string.Join(", ", epochs)}");
        bool keptInit = sink.Entries.Single(e => e.Name == "tip-adapter-f/max_best_final_kept_init").Value == 1;
        if (keptInit) Assert.Equal(epochs.Max(), final, 12);
        Assert.Equal(keptInit, (classifier.Alpha, classifier.Beta) == (options.InitAlpha, options.InitBeta));
    }
}
