using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Peft.Core;
using Peft.Host.Plugins;
using Peft.Methods.LinearProbe;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Peft.Tests.Methods;

public class LinearProbeTests(ITestOutputHelper output)
{
    static readonly string FixtureDir = Path.Combine(AppContext.BaseDirectory, "Fixtures", "probe");

    static JsonElement Load(string name) => JsonDocument.Parse(File.ReadAllText(Path.Combine(FixtureDir, name))).RootElement;

    static double[,] Matrix(JsonElement e)
    {
        var rows = e.EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();
        var m = new double[rows.Length, rows[0].Length];
        for (int i = 0; i < rows.Length; i++)
            for (int j = 0; j < rows[0].Length; j++) m[i, j] = rows[i][j];
        return m;
    }

    static Tensor Features(JsonElement e) => tensor(Matrix(e), ScalarType.Float64);
    static Tensor Labels(JsonElement e) => tensor(e.EnumerateArray().Select(v => v.GetInt64()).ToArray());
    static long[] Longs(JsonElement e) => e.EnumerateArray().Select(v => v.GetInt64()).ToArray();

    /// <summary>sklearn's (coef_, intercept_) from our [K, D] / [K] fit: as is for K ≥ 3; row 1 − row 0 for K = 2.</summary>
    static (double[,] W, double[] B) AsSklearn(Tensor w, Tensor b, int classes)
    {
        if (classes == 2)
        {
            w = (w[1] - w[0]).unsqueeze(0);
            b = (b[1] - b[0]).unsqueeze(0);
        }
        var wd = w.data<double>().ToArray();
        int k = (int)w.shape[0], d = (int)w.shape[1];
        var W = new double[k, d];
        for (int i = 0; i < k; i++)
            for (int j = 0; j < d; j++) W[i, j] = wd[i * d + j];
        return (W, b.data<double>().ToArray());
    }

    /// <summary>max |ours − ref| over coef and intercept, divided by max |ref| (the scale of the solution).</summary>
    static double RelativeError(double[,] w, double[] b, double[,] rw, double[] rb)
    {
        double err = 0, scale = 0;
        for (int i = 0; i < rw.GetLength(0); i++)
        {
            for (int j = 0; j < rw.GetLength(1); j++)
            {
                err = Math.Max(err, Math.Abs(w[i, j] - rw[i, j]));
                scale = Math.Max(scale, Math.Abs(rw[i, j]));
            }
            err = Math.Max(err, Math.Abs(b[i] - rb[i]));
            scale = Math.Max(scale, Math.Abs(rb[i]));
        }
        return err / scale;
    }

    /// <summary>Our fit with sklearn's tol and max_iter, its relative error against sklearn's coef_/intercept_, and its predictions on xt.</summary>
    static (Multinomial.Fit Fit, double Error, long[] Predictions) FitLikeSklearn(Tensor x, Tensor y, int classes, double c,
        double tolerance, int maxIterations, JsonElement coef, JsonElement intercept, Tensor xt)
    {
        var fit = Multinomial.Train(x, y, classes, c, tolerance, maxIterations);
        var (w, b) = AsSklearn(fit.Weight, fit.Bias, classes);
        double error = RelativeError(w, b, Matrix(coef), OfficialCell.Doubles(intercept));
        using var classifier = new LinearProbeClassifier(fit.Weight, fit.Bias, c);
        return (fit, error, classifier.Predict(xt));
    }

    [Fact]
    public void FitsAgreeWithScikitLearn()
    {
        using var scope = NewDisposeScope();
        var fixture = Load("fits.json");
        double worstTight = 0, worstDefault = 0;
        foreach (var ds in fixture.GetProperty("datasets").EnumerateArray())
        {
            var name = ds.GetProperty("name").GetString();
            int classes = ds.GetProperty("classes").GetInt32();
            var x = Features(ds.GetProperty("train_x"));
            var y = Labels(ds.GetProperty("train_y"));
            var xt = Features(ds.GetProperty("test_x"));
            foreach (var fit in ds.GetProperty("fits").EnumerateArray())
            {
                double c = fit.GetProperty("c").GetDouble();
                // The minimiser itself: sklearn with tol 1e-12 against ours with tol 1e-12.
                var (tight, eTight, _) = FitLikeSklearn(x, y, classes, c, 1e-12, 20000, fit.GetProperty("tight_coef"), fit.GetProperty("tight_intercept"), xt);
                // What lpclip runs: tol 1e-4, max_iter 1000 on both sides.
                var (dflt, eDefault, predictions) = FitLikeSklearn(x, y, classes, c, 1e-4, 1000, fit.GetProperty("coef"), fit.GetProperty("intercept"), xt);
                output.WriteLine($"{name} C={c}: tight rel err {eTight:E2} ({tight.Result.Iterations} it, sklearn {fit.GetProperty("tight_n_iter").GetInt32()}), " +
                    $"tol 1e-4 rel err {eDefault:E2} ({dflt.Result.Iterations} it, {dflt.Result.Stop}; sklearn {fit.GetProperty("n_iter").GetInt32()})");
                // The same path as scipy's L-BFGS-B: the same iteration count, the same point up to rounding.
                Assert.Equal(fit.GetProperty("n_iter").GetInt32(), dflt.Result.Iterations);
                Assert.Equal(fit.GetProperty("tight_n_iter").GetInt32(), tight.Result.Iterations);
                Assert.True(eTight < 1e-5, $"{name} C={c}: tight relative error {eTight}");
                Assert.True(eDefault < 1e-8, $"{name} C={c}: tol 1e-4 relative error {eDefault}");
                Assert.Equal(Longs(fit.GetProperty("predictions")), predictions);
                worstTight = Math.Max(worstTight, eTight);
                worstDefault = Math.Max(worstDefault, eDefault);
            }
        }
        output.WriteLine($"worst: tight {worstTight:E2}, default {worstDefault:E2}");
    }

    static AdaptationContext Context(JsonElement f, IMetricSink? metrics = null)
    {
        int classes = f.GetProperty("classes").GetInt32();
        // float64 as in the fixture (the host's float32 is converted to float64 by the solver anyway).
        var x = Features(f.GetProperty("train_x"));
        var features = new InMemoryTaskFeatures(x, Labels(f.GetProperty("train_y")), x.unsqueeze(0),
            Features(f.GetProperty("val_x")), Labels(f.GetProperty("val_y")));
        return new AdaptationContext
        {
            Task = new FewShotTask("probe", Enumerable.Range(0, classes).Select(i => $"c{i}").ToArray(), ["{}"], 8, 1),
            Features = features, TextEncoder = null!, Tokenizer = null!, Generator = new Generator(1),
            Metrics = metrics ?? NullMetricSink.Instance,
        };
    }

    [Fact]
    public void CSearchReproducesLpclip()
    {
        using var scope = NewDisposeScope();
        var f = Load("search.json");
        var sink = new RecordingSink();
        using var classifier = new LinearProbe(new LinearProbeOptions()).Fit(Context(f, sink));
        var probe = Assert.IsType<LinearProbeClassifier>(classifier);
        double cFinal = f.GetProperty("c_final").GetDouble();
        Assert.Equal(cFinal, probe.C, cFinal * 1e-12);
        Assert.Equal(cFinal, sink.Entries.Single(e => e.Name == "chosen_c").Value, cFinal * 1e-12);

        var accs = sink.Entries.Where(e => e.Name == "search_val_acc").Select(e => e.Value).ToArray();
        var cs = sink.Entries.Where(e => e.Name == "search_c").Select(e => e.Value).ToArray();
        Assert.Equal(Enumerable.Range(0, accs.Length), sink.Entries.Where(e => e.Name == "search_val_acc").Select(e => e.Step));
        output.WriteLine($"grid val acc: ours [{string.Join(", ", accs[..7])}], sklearn [{string.Join(", ", OfficialCell.Doubles(f.GetProperty("grid_val_acc")))}]");
        output.WriteLine($"steps ours: {string.Join("; ", Enumerable.Range(0, (accs.Length - 7) / 2).Select(s => $"{cs[7 + 2 * s]:G4}:{accs[7 + 2 * s]:F4} | {cs[8 + 2 * s]:G4}:{accs[8 + 2 * s]:F4}"))}; final {probe.C}");
        Assert.Equal(OfficialCell.Doubles(f.GetProperty("grid_val_acc")), accs[..7]);
        var steps = f.GetProperty("steps").EnumerateArray().ToArray();
        Assert.Equal(7 + 2 * steps.Length, accs.Length);
        int differing = 0;
        for (int s = 0; s < steps.Length; s++)
        {
            Assert.Equal(steps[s].GetProperty("c_left").GetDouble(), cs[7 + 2 * s], steps[s].GetProperty("c_left").GetDouble() * 1e-12);
            Assert.Equal(steps[s].GetProperty("c_right").GetDouble(), cs[8 + 2 * s], steps[s].GetProperty("c_right").GetDouble() * 1e-12);
            // Same decision and the same validation accuracy at every step (with the earlier strong-Wolfe search one
            // of the 120 validation predictions differed at C = 1e-5, where both stop on ftol far from the minimiser).
            double kept = steps[s].GetProperty("c_kept").GetDouble();
            Assert.Equal(kept, accs[7 + 2 * s] < accs[8 + 2 * s] ? cs[8 + 2 * s] : cs[7 + 2 * s], kept * 1e-12);
            foreach (var (end, i) in new[] { ("acc_left", 7 + 2 * s), ("acc_right", 8 + 2 * s) })
            {
                double expected = steps[s].GetProperty(end).GetDouble();
                Assert.True(Math.Abs(expected - accs[i]) <= 1.0 / 120 + 1e-12, $"step {s} {end}: {accs[i]} vs {expected}");
                if (expected != accs[i]) differing++;
            }
        }
        Assert.Equal(0, differing);

        var xt = Features(f.GetProperty("test_x"));
        var predictions = probe.Predict(xt);
        Assert.Equal(Longs(f.GetProperty("test_predictions")), predictions);
        var yt = Longs(f.GetProperty("test_y"));
        double testAcc = (double)predictions.Zip(yt).Count(p => p.First == p.Second) / yt.Length;
        Assert.Equal(f.GetProperty("test_acc").GetDouble(), testAcc, 12);
        var logits = classifier.Logits(xt);
        Assert.Equal(ScalarType.Float32, logits.dtype);
        Assert.Equal(predictions, logits.argmax(1).data<long>().ToArray());
        output.WriteLine($"chosen C {probe.C} (sklearn {cFinal}), test acc {testAcc} (sklearn {f.GetProperty("test_acc").GetDouble()})");
    }

    /// <summary>NumpySum adds in NumPy's order: bit for bit np.sum on lengths around its pairwise block and buffer sizes.</summary>
    [Fact]
    public void NumpySumIsBitForBitNumpys()
    {
        foreach (var e in Load("numpy_sum.json").GetProperty("sums").EnumerateArray())
        {
            int n = e.GetProperty("n").GetInt32();
            // The fixture's values: a_i = (i·7919 mod 1000 − 499.5)·2^(i·13 mod 81 − 40), exact in float64.
            var a = Enumerable.Range(0, n).Select(i => ((long)i * 7919 % 1000 - 499.5) * Math.ScaleB(1, (int)((long)i * 13 % 81) - 40)).ToArray();
            double expected = e.GetProperty("sum").GetDouble();
            Assert.True(BitConverter.DoubleToInt64Bits(expected) == BitConverter.DoubleToInt64Bits(NumpySum.Of(a)),
                $"n = {n}: {NumpySum.Of(a):R}, NumPy {expected:R} (sequential {a.Sum():R})");
        }
    }

    [Fact]
    public void BisectionFollowsLpclipOnAConstructedAccuracy()
    {
        // acc(C) = −|log10 C − log10 0.02|: the grid peaks at 1e-2, then (worked by hand from lpclip's code)
        // R, L, R, L, L, R, R, L with kept exponents −1, −2, −1.5, −1.75, −1.75, −1.6875, −1.6875, −1.703125.
        double target = Math.Log10(0.02);
        var r = LinearProbe.Search([1e6, 1e4, 1e2, 1, 1e-2, 1e-4, 1e-6], 8, c => -Math.Abs(Math.Log10(c) - target));
        Assert.Equal(1e-2, r.CPeak);
        double[] kept = [-1, -2, -1.5, -1.75, -1.75, -1.6875, -1.6875, -1.703125];
        double[] left = [-3, -2, -2, -1.75, -1.75, -1.75, -1.71875, -1.703125];
        double[] right = [-1, -1, -1.5, -1.5, -1.625, -1.6875, -1.6875, -1.6875];
        Assert.Equal(8, r.Steps.Count);
        for (int i = 0; i < 8; i++)
        {
            Assert.Equal(left[i], Math.Log10(r.Steps[i].CLeft), 12);
            Assert.Equal(right[i], Math.Log10(r.Steps[i].CRight), 12);
            Assert.Equal(kept[i], Math.Log10(r.Steps[i].CKept), 12);
        }
        Assert.Equal(-1.703125, Math.Log10(r.C), 12);

        // Ties: the first grid value is the peak and the left end always wins.
        var flat = LinearProbe.Search([1e6, 1e4, 1], 3, _ => 0.5);
        Assert.Equal(1e6, flat.CPeak);
        Assert.Equal([5.0, 5.0, 5.0], flat.Steps.Select(s => Math.Round(Math.Log10(s.CLeft), 12)));
        Assert.Equal([7.0, 6.0, 5.5], flat.Steps.Select(s => Math.Round(Math.Log10(s.CRight), 12)));
        Assert.Equal(1e5, flat.C, 1e-6);
        Assert.Equal(1e4, LinearProbe.Search([1e6, 1e4, 1], 0, c => c == 1e4 ? 1 : 0).C);
    }

    static double Rosenbrock(double[] x, double[] g)
    {
        double f = 0;
        Array.Clear(g);
        for (int i = 0; i + 1 < x.Length; i++)
        {
            double a = x[i + 1] - x[i] * x[i], b = 1 - x[i];
            f += 100 * a * a + b * b;
            g[i] += -400 * x[i] * a - 2 * b;
            g[i + 1] += 200 * a;
        }
        return f;
    }

    [Fact]
    public void LineSearchSatisfiesStrongWolfeOnRosenbrock()
    {
        // dcsrch's convergence test is the strong Wolfe conditions with ftol 1e-3 and gtol 0.9 (as lnsrlb calls it).
        var starts = new[] { new[] { -1.2, 1.0 }, new[] { 0.0, 0.0 }, new[] { 2.0, -1.0 }, new[] { -0.5, 3.0 } };
        foreach (var x in starts)
        {
            foreach (double step0 in new[] { 1.0, 1e-4, 10.0 })
            {
                var g = new double[2];
                double f0 = Rosenbrock(x, g);
                var d = g.Select(v => -v).ToArray();
                var z = x.Zip(d, (a, b) => a + b).ToArray();
                int evaluations = 0;
                var r = Lbfgs.LineSearch(Rosenbrock, x, f0, g, d, z, step0, ref evaluations);
                Assert.NotNull(r);
                var step = r.Value;
                var gcheck = new double[2];
                Assert.Equal(Rosenbrock(step.X, gcheck), step.F);
                Assert.Equal(gcheck, step.G);
                Assert.True(step.Length > 0);
                Assert.InRange(evaluations, 1, Lbfgs.MaxLineSearch);
                Assert.True(step.F <= f0 + 1e-3 * step.Length * step.GdOld, "sufficient decrease");
                Assert.True(Math.Abs(step.Gd) <= -0.9 * step.GdOld, "curvature");
            }
        }
    }

    [Fact]
    public void LineSearchTakesMoreThuentesSteps()
    {
        // φ(α) = (α − 3)², φ'(0) = −6, from α = 1 with gtol 0.1 (so φ'(1) = −4 is not flat enough): dcstep's case 3
        // (lower value, same-sign smaller derivative) gives cubic and secant step both α = 3, the exact minimiser
        // (worked by hand from dcstep); there φ'(3) = 0 converges.
        var search = new MoreThuente(1e-3, 0.1, 0.1, 0, 1e10);
        search.Start(9, -6, 1);
        double stp = 1;
        Assert.False(search.Next(4, -4, ref stp));
        Assert.Equal(3.0, stp);
        Assert.True(search.Next(0, 0, ref stp));
        // A higher value at the first step brackets the minimum (case 1): the step falls inside (0, 10).
        var bracket = new MoreThuente(1e-3, 0.1, 0.1, 0, 1e10);
        bracket.Start(9, -6, 10);
        stp = 10;
        Assert.False(bracket.Next(49, 14, ref stp));
        Assert.InRange(stp, 0.0, 10.0);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(10)]
    public void LbfgsConvergesOnRosenbrock(int n)
    {
        var x0 = Enumerable.Range(0, n).Select(i => i % 2 == 0 ? -1.2 : 1.0).ToArray();
        var r = Lbfgs.Minimize(Rosenbrock, x0, 1e-9, 2000);
        // Stops on the gradient or on scipy's relative-reduction test (ftol 2.2e-9), both near the minimiser (1, …, 1).
        Assert.Contains(r.Stop, new[] { LbfgsStop.Gradient, LbfgsStop.RelativeReduction });
        Assert.All(r.X, v => Assert.Equal(1.0, v, 1e-4));
        output.WriteLine($"n={n}: {r.Iterations} iterations, {r.Evaluations} evaluations");
    }

    [Fact]
    public void FitIsDeterministicAndTheClassifierIsLinear()
    {
        using var scope = NewDisposeScope();
        var f = Load("search.json");
        var options = new LinearProbeOptions { C = 0.5 };
        using var a = (LinearProbeClassifier)new LinearProbe(options).Fit(Context(f));
        using var b = (LinearProbeClassifier)new LinearProbe(options).Fit(Context(f));
        Assert.Equal(0.5, a.C);
        Assert.Equal(a.Weights["weight"].data<double>().ToArray(), b.Weights["weight"].data<double>().ToArray());
        Assert.Equal(a.Weights["bias"].data<double>().ToArray(), b.Weights["bias"].data<double>().ToArray());
        int d = 32, k = 6;
        Assert.Equal(new long[] { k, d }, a.Weights["weight"].shape);
        Assert.Equal(k * d + k, a.TrainableParameters);
        var x = randn([5, d], generator: new Generator(4)) * 3;
        var manual = x.to(ScalarType.Float64).matmul(a.Weights["weight"].t()) + a.Weights["bias"];
        Assert.True(a.Logits(x).allclose(manual.to(ScalarType.Float32), 1e-5, 1e-5));
        // Unnormalised features: scaling the input changes the logits (a normalising head would not).
        Assert.False(a.Logits(x * 2).allclose(a.Logits(x), 1e-3, 1e-3));
    }

    [Fact]
    public void OptionsDefaultsValidationAndCatalog()
    {
        var o = new LinearProbeOptions();
        Assert.Equal([1e6, 1e4, 1e2, 1, 1e-2, 1e-4, 1e-6], o.CGrid);
        Assert.Equal(8, o.BisectionSteps);
        Assert.Equal(1000, o.MaxIterations);
        Assert.Equal(1e-4, o.Tolerance);
        Assert.Null(o.C);
        Assert.Empty(o.Validate());
        Assert.Contains(new LinearProbeOptions { CGrid = [] }.Validate(), p => p.StartsWith("cGrid"));
        Assert.Contains(new LinearProbeOptions { CGrid = [1, -1] }.Validate(), p => p.StartsWith("cGrid"));
        Assert.Contains(new LinearProbeOptions { BisectionSteps = -1 }.Validate(), p => p.StartsWith("bisectionSteps"));
        Assert.Contains(new LinearProbeOptions { MaxIterations = 0 }.Validate(), p => p.StartsWith("maxIterations"));
        Assert.Contains(new LinearProbeOptions { Tolerance = 0 }.Validate(), p => p.StartsWith("tolerance"));
        Assert.Contains(new LinearProbeOptions { C = 0 }.Validate(), p => p.StartsWith("c must"));

        var descriptor = MethodCatalog.Load().Get("linear-probe");
        Assert.Equal(typeof(LinearProbeOptions).FullName, descriptor.OptionsType.FullName);
        IConfiguration Section(params (string, string)[] values) =>
            new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Item1, v.Item2))).Build();
        Assert.Contains("bisectionSteps", Assert.Throws<MethodOptionsException>(() => descriptor.Create(Section(("bisectionSteps", "-2")))).Message);
        Assert.Contains("'cgrids'", Assert.Throws<MethodOptionsException>(() => descriptor.Create(Section(("cgrids:0", "1")))).Message);
        Assert.NotNull(descriptor.Create(Section(("c", "0.316"), ("maxIterations", "50"))));
    }

    [Fact]
    public void SixteenShotSizedFitTime()
    {
        // N = 16·100, D = 1024, C = 100 classes, C = 1 (one fit of the search), clusters with unnormalised scale.
        using var scope = NewDisposeScope();
        var g = new Generator(7);
        int k = 100, shots = 16, d = 1024;
        var means = randn([k, d], generator: g) * 0.3;
        var y = arange(k, dtype: ScalarType.Int64).repeat_interleave(shots);
        var x = (means[y] + randn([k * shots, d], generator: g)) * 0.5;
        var sw = Stopwatch.StartNew();
        var fit = Multinomial.Train(x, y, k, 1.0, 1e-4, 1000);
        sw.Stop();
        using var classifier = new LinearProbeClassifier(fit.Weight, fit.Bias, 1.0);
        var acc = (double)classifier.Predict(x).Zip(y.data<long>().ToArray()).Count(p => p.First == p.Second) / (k * shots);
        output.WriteLine($"N={k * shots} D={d} K={k} C=1: {sw.Elapsed.TotalSeconds:F1} s, {fit.Result.Iterations} iterations, " +
            $"{fit.Result.Evaluations} evaluations, stop {fit.Result.Stop}, train acc {acc}");
        Assert.Equal(1.0, acc);
        Assert.NotEqual(LbfgsStop.LineSearchFailed, fit.Result.Stop);
    }

    /// <summary>
    /// Issue 18.1: few-shot cells where sklearn stops at max_iter = 1000 or on ftol far from the minimiser, so only the
    /// same path (scipy's L-BFGS-B: Moré–Thuente steps, its restarts and stopping rules) gives the same predictions.
    /// </summary>
    [Fact]
    public void HardCellsFollowScipysPath()
    {
        using var scope = NewDisposeScope();
        var fixture = Load("hard.json");
        int fits = 0, sameIterations = 0, samePredictions = 0, predictionDifferences = 0, predictions = 0;
        foreach (var ds in fixture.GetProperty("datasets").EnumerateArray())
        {
            var name = ds.GetProperty("name").GetString();
            int classes = ds.GetProperty("classes").GetInt32();
            var x = Features(ds.GetProperty("train_x"));
            var y = Labels(ds.GetProperty("train_y"));
            var xt = Features(ds.GetProperty("test_x"));
            foreach (var fit in ds.GetProperty("fits").EnumerateArray())
            {
                double c = fit.GetProperty("c").GetDouble();
                var (ours, error, got) = FitLikeSklearn(x, y, classes, c, 1e-4, 1000, fit.GetProperty("coef"), fit.GetProperty("intercept"), xt);
                var expected = Longs(fit.GetProperty("test_predictions"));
                int differ = expected.Zip(got).Count(p => p.First != p.Second);
                int sklearnIterations = fit.GetProperty("n_iter").GetInt32();
                output.WriteLine($"{name} C={c:G3}: {ours.Result.Iterations} iterations ({ours.Result.Stop}), sklearn {sklearnIterations}; " +
                    $"coef rel err {error:E2}; {differ} of {expected.Length} test predictions differ");
                // Short paths are scipy's to rounding; along 1000 iterations of an ill-conditioned fit the rounding
                // differences (BLAS summation order, two-loop vs compact form of H·g) grow and the end points drift.
                if (sklearnIterations <= 150)
                {
                    Assert.Equal(sklearnIterations, ours.Result.Iterations);
                    Assert.True(error < 1e-4, $"{name} C={c}: coef relative error {error}");
                }
                Assert.True(differ <= expected.Length / 10, $"{name} C={c}: {differ} of {expected.Length} test predictions differ");
                fits++;
                if (ours.Result.Iterations == sklearnIterations) sameIterations++;
                if (differ == 0) samePredictions++;
                predictionDifferences += differ;
                predictions += expected.Length;
            }
        }
        output.WriteLine($"{fits} fits: same iteration count in {sameIterations}, same test predictions in {samePredictions}; " +
            $"{predictionDifferences} of {predictions} predictions differ");
        Assert.True(predictionDifferences <= predictions / 50, $"{predictionDifferences} of {predictions} test predictions differ");

        // lpclip's whole C search on the same cells: the chosen C and the final classifier's test predictions.
        foreach (var ds in fixture.GetProperty("datasets").EnumerateArray())
        {
            var name = ds.GetProperty("name").GetString();
            using var classifier = (LinearProbeClassifier)new LinearProbe(new LinearProbeOptions()).Fit(Context(ds));
            double expectedC = ds.GetProperty("c_final").GetDouble();
            var expected = Longs(ds.GetProperty("test_predictions"));
            int differ = expected.Zip(classifier.Predict(Features(ds.GetProperty("test_x")))).Count(p => p.First != p.Second);
            output.WriteLine($"{name} search: chosen C {classifier.C:G6} (sklearn {expectedC:G6}); {differ} of {expected.Length} test predictions differ");
            Assert.Equal(expectedC, classifier.C, expectedC * 1e-9);
            Assert.Equal(0, differ);
        }
    }
}
