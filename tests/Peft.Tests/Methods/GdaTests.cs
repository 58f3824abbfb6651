using Peft.Core;
using Peft.Methods.Gda;
using static TorchSharp.torch;

namespace Peft.Tests.Methods;

public class GdaTests
{
    /// <summary>
    /// The discriminant against a float64 computation written from the paper's formulas: μ_c the mean of class c's
    /// normalised view features, S the sample covariance of the class-centred features (M rows), Σ⁻¹ = D·(( M−1)S + tr(S)I)⁻¹,
    /// W_c = Σ⁻¹μ_c, b_c = log(1/C) − μ_cᵀΣ⁻¹μ_c / 2.
    /// </summary>
    [Fact]
    public void TheDiscriminantIsTheGaussianOneWithTheSharedShrunkCovariance()
    {
        using var scope = NewDisposeScope();
        using var support = new MethodTestSupport();
        string[] classes = ["cat", "dog", "fox"];
        var context = support.Context(classes, shots: 4, views: 3, valPerClass: 2);
        using var classifier = new Gda(new GdaOptions { AugmentViews = 3, Alpha = 2.0 }).Fit(context);
        var w = classifier.Weights["gda_weight"].to(ScalarType.Float64).data<double>().ToArray();   // [D, C]
        var b = classifier.Weights["gda_bias"].to(ScalarType.Float64).data<double>().ToArray();

        int dim = context.Features.Dim, c = classes.Length;
        var views = nn.functional.normalize(context.Features.TrainViews(3).to(ScalarType.Float64), dim: -1);
        var rows = new List<(double[] X, int Label)>();
        var labels = context.Features.TrainLabels.data<long>().ToArray();
        for (int v = 0; v < 3; v++)
            for (int i = 0; i < labels.Length; i++)
                rows.Add((views[v][i].data<double>().ToArray(), (int)labels[i]));
        var mu = Enumerable.Range(0, c).Select(k =>
        {
            var own = rows.Where(r => r.Label == k).ToList();
            return Enumerable.Range(0, dim).Select(j => own.Average(r => r.X[j])).ToArray();
        }).ToArray();
        var centred = rows.Select(r => r.X.Select((x, j) => x - mu[r.Label][j]).ToArray()).ToArray();
        int m = centred.Length;
        var mean = Enumerable.Range(0, dim).Select(j => centred.Average(r => r[j])).ToArray();
        var a = new double[dim, dim];
        double trace = 0;
        for (int p = 0; p < dim; p++)
            for (int q = 0; q < dim; q++)
            {
                double s = centred.Sum(r => (r[p] - mean[p]) * (r[q] - mean[q])) / (m - 1);
                a[p, q] = (m - 1) * s;
                if (p == q) trace += s;
            }
        for (int p = 0; p < dim; p++) a[p, p] += trace;
        var inv = Invert(a);
        for (int k = 0; k < c; k++)
        {
            double quad = 0;
            for (int p = 0; p < dim; p++)
            {
                double wk = 0;
                for (int q = 0; q < dim; q++) wk += dim * inv[p, q] * mu[k][q];
                Assert.Equal(wk, w[p * c + k], 3);
                quad += mu[k][p] * wk;
            }
            Assert.Equal(Math.Log(1.0 / c) - quad / 2, b[k], 3);
        }

        // logits = 100·f·Wclipᵀ + α(f·W + b) on normalised features.
        var f = nn.functional.normalize(context.Features.ValFeatures(), dim: -1);
        var expected = f.matmul(classifier.Weights["clip_weights"].t()) * 100 + (f.matmul(classifier.Weights["gda_weight"]) + classifier.Weights["gda_bias"]) * 2.0;
        Assert.True(classifier.Logits(context.Features.ValFeatures() * 3).allclose(expected, rtol: 1e-4, atol: 1e-3));
        Assert.Equal(0, classifier.TrainableParameters);
    }

    [Fact]
    public void AlphaIsSearchedOnValidationAndTheFirstOfEqualsWins()
    {
        using var scope = NewDisposeScope();
        using var support = new MethodTestSupport();
        var context = support.Context(["a", "b"], shots: 3, views: 2, valPerClass: 3);
        var sink = new RecordingSink();
        // One grid value: it is taken when it is right on any validation image; a grid right nowhere keeps initAlpha.
        new Gda(new GdaOptions { AugmentViews = 2, AlphaGrid = [5.0, 5.0, 7.0] }).Fit(WithSink(context, sink)).Dispose();
        double alpha = sink.Last["alpha"];
        Assert.Contains(alpha, new[] { 5.0, 7.0, 0.1 });
        var options = new GdaOptions { AugmentViews = 2, AlphaGrid = [1e-4, 1e-3, 1e-2, 0.1, 1, 10, 100] };
        new Gda(options).Fit(WithSink(context, sink)).Dispose();
        Assert.Contains(sink.Last["alpha"], options.AlphaGrid);
        Assert.InRange(sink.Last["val_accuracy"], 0, 1);
        // A fixed alpha skips the search.
        new Gda(options with { Alpha = 3.5 }).Fit(WithSink(context, sink)).Dispose();
        Assert.Equal(3.5, sink.Last["alpha"]);
    }

    [Fact]
    public void OptionsAreValidatedAndOracleSearchesNeedTheAsPublishedProtocol()
    {
        var defaults = new GdaOptions();
        Assert.Equal((10, "dataset", 100.0, 0.1, "val"), (defaults.AugmentViews, defaults.Templates, defaults.LogitScale, defaults.InitAlpha, defaults.SearchOn));
        Assert.Equal([0.0001, 0.001, 0.01, 0.1, 1.0, 10.0, 100.0], defaults.AlphaGrid);
        Assert.Empty(defaults.Validate());
        var bad = new GdaOptions { AugmentViews = 0, Templates = "x", AlphaGrid = [], SearchOn = "train", Alpha = -1 }.Validate().ToList();
        Assert.Equal(5, bad.Count);
        Assert.True(new GdaOptions { SearchOn = "test" }.UsesOracle);
        Assert.False(new GdaOptions { SearchOn = "test", Alpha = 1 }.UsesOracle);

        using var support = new MethodTestSupport();
        var e = Assert.Throws<InvalidOperationException>(() => new Gda(new GdaOptions { AugmentViews = 2, SearchOn = "full-val" }).Fit(support.Context(["a", "b"], 2)));
        Assert.Contains("as-published", e.Message);
    }

    static AdaptationContext WithSink(AdaptationContext c, IMetricSink sink) => new()
    {
        Task = c.Task, Features = c.Features, TextEncoder = c.TextEncoder, Tokenizer = c.Tokenizer, Generator = c.Generator, Metrics = sink,
    };

    static double[,] Invert(double[,] a)
    {
        int n = a.GetLength(0);
        var m = new double[n, 2 * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++) m[i, j] = a[i, j];
            m[i, n + i] = 1;
        }
        for (int col = 0; col < n; col++)
        {
            int pivot = Enumerable.Range(col, n - col).MaxBy(r => Math.Abs(m[r, col]));
            for (int j = 0; j < 2 * n; j++) (m[col, j], m[pivot, j]) = (m[pivot, j], m[col, j]);
            double d = m[col, col];
            for (int j = 0; j < 2 * n; j++) m[col, j] /= d;
            for (int r = 0; r < n; r++)
                if (r != col && m[r, col] != 0)
                {
                    double factor = m[r, col];
                    for (int j = 0; j < 2 * n; j++) m[r, j] -= factor * m[col, j];
                }
        }
        var inv = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) inv[i, j] = m[i, n + j];
        return inv;
    }
}
