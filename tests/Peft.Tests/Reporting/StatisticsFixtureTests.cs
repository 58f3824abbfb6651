using System.Text.Json;
using Peft.Reporting.Statistics;
using Xunit.Abstractions;

namespace Peft.Tests.Reporting;

/// <summary>Sign test, Wilcoxon signed-rank test and the normal tail against SciPy (tools/reference/make_stats_fixtures.py).</summary>
public class StatisticsFixtureTests(ITestOutputHelper output)
{
    const double Tolerance = 1e-9;
    static readonly JsonElement Fixture = JsonDocument.Parse(File.ReadAllText(
        Path.Combine(AppContext.BaseDirectory, "Fixtures", "stats", "paired_tests.json"))).RootElement;

    static double Relative(double actual, double expected) =>
        actual == expected ? 0 : Math.Abs(actual - expected) / Math.Abs(expected);

    [Fact]
    public void Sign_test_p_values_match_scipy_binomtest()
    {
        double worst = 0;
        foreach (var c in Fixture.GetProperty("sign_test").EnumerateArray())
        {
            int wins = c.GetProperty("wins").GetInt32(), losses = c.GetProperty("losses").GetInt32();
            double expected = c.GetProperty("pvalue").GetDouble();
            double actual = SignTest.TwoSidedPValue(wins, losses);
            double rel = Relative(actual, expected);
            Assert.True(rel < Tolerance, $"sign test {wins}/{losses}: {actual:R} vs scipy {expected:R} (relative {rel:E2})");
            worst = Math.Max(worst, rel);
        }
        output.WriteLine($"sign test: max relative difference {worst:E2} (scipy {Fixture.GetProperty("scipy_version").GetString()})");
    }

    [Fact]
    public void Wilcoxon_p_values_statistics_and_methods_match_scipy()
    {
        double worst = 0;
        var methods = new HashSet<WilcoxonPValueMethod>();
        foreach (var c in Fixture.GetProperty("wilcoxon").EnumerateArray())
        {
            string name = c.GetProperty("name").GetString()!;
            var d = c.GetProperty("d").EnumerateArray().Select(v => v.GetDouble()).ToArray();
            var result = WilcoxonSignedRankTest.TwoSided(d);
            var expectedMethod = c.GetProperty("method").GetString() switch
            {
                "exact" => WilcoxonPValueMethod.Exact,
                "permutation" => WilcoxonPValueMethod.Permutation,
                "asymptotic" => WilcoxonPValueMethod.Asymptotic,
                var m => throw new InvalidDataException($"Unknown method '{m}' in case {name}."),
            };
            Assert.True(expectedMethod == result.Method, $"{name}: method {result.Method}, scipy {expectedMethod}");
            Assert.Equal(c.GetProperty("statistic").GetDouble(), result.Statistic);
            double expected = c.GetProperty("pvalue").GetDouble();
            double rel = Relative(result.PValue, expected);
            Assert.True(rel < Tolerance, $"{name}: p {result.PValue:R} vs scipy {expected:R} (relative {rel:E2})");
            worst = Math.Max(worst, rel);
            methods.Add(result.Method);
        }
        Assert.Equal(3, methods.Count); // every branch exercised
        output.WriteLine($"wilcoxon: max relative p-value difference {worst:E2}");
    }

    [Fact]
    public void Normal_two_sided_tail_matches_scipy_norm_sf()
    {
        double worst = 0;
        foreach (var c in Fixture.GetProperty("normal").EnumerateArray())
        {
            double z = c.GetProperty("z").GetDouble(), expected = c.GetProperty("two_sided").GetDouble();
            double rel = Relative(NormalDistribution.TwoSidedTail(z), expected);
            Assert.True(rel < 1e-12, $"z = {z}: {NormalDistribution.TwoSidedTail(z):R} vs scipy {expected:R} (relative {rel:E2})");
            Assert.Equal(NormalDistribution.TwoSidedTail(z), NormalDistribution.TwoSidedTail(-z));
            worst = Math.Max(worst, rel);
        }
        output.WriteLine($"normal tail: max relative difference {worst:E2}");
    }

    [Fact]
    public void Degenerate_inputs_give_no_p_value()
    {
        Assert.True(double.IsNaN(SignTest.TwoSidedPValue(0, 0)));
        var allZero = WilcoxonSignedRankTest.TwoSided([0.0, 0.0, 0.0]);
        Assert.Equal(WilcoxonPValueMethod.None, allZero.Method);
        Assert.True(double.IsNaN(allZero.PValue));
        Assert.True(double.IsNaN(WilcoxonSignedRankTest.TwoSided([]).PValue));
        var e = Assert.Throws<ArgumentException>(() => WilcoxonSignedRankTest.TwoSided([1.0, double.NaN]));
        Assert.Contains("Difference 1", e.Message);
    }

    [Fact]
    public void Wilcoxon_is_symmetric_in_the_sign_of_the_differences()
    {
        double[] d = [1.5, -0.5, 2.25, 3.0, 4.0, 0.0, 2.25];
        double[] negated = d.Select(x => -x).ToArray();
        Assert.Equal(WilcoxonSignedRankTest.TwoSided(d).PValue, WilcoxonSignedRankTest.TwoSided(negated).PValue, 15);
    }

    [Fact]
    public void Student_t_cdf_quantiles_and_mean_intervals_match_scipy()
    {
        double worst = 0;
        foreach (var c in Fixture.GetProperty("student_t").EnumerateArray())
        {
            double df = c.GetProperty("df").GetDouble(), t = c.GetProperty("t").GetDouble(), expected = c.GetProperty("cdf").GetDouble();
            double diff = Math.Abs(StudentT.Cdf(t, df) - expected);
            Assert.True(diff < 1e-12, $"t.cdf({t}, {df}) = {StudentT.Cdf(t, df):R}, scipy {expected:R}");
            worst = Math.Max(worst, diff);
        }
        foreach (var c in Fixture.GetProperty("t_quantiles").EnumerateArray())
        {
            double df = c.GetProperty("df").GetDouble(), p = c.GetProperty("p").GetDouble(), expected = c.GetProperty("ppf").GetDouble();
            // SciPy's t.ppf (cephes stdtrit) is itself only good to ~4e-9 here (t.cdf(t.ppf(0.9, 3), 3) =
            // 0.90000000036); ours inverts the CDF to rounding, so: close to SciPy, and exact against the CDF.
            double q = StudentT.Quantile(p, df);
            double rel = Math.Abs(q - expected) / Math.Max(1, Math.Abs(expected));
            Assert.True(rel < 1e-8, $"t.ppf({p}, {df}) = {q:R}, scipy {expected:R}");
            Assert.True(Math.Abs(StudentT.Cdf(q, df) - p) < 1e-13, $"cdf(quantile({p}, {df})) = {StudentT.Cdf(q, df):R}");
        }
        var cases = Fixture.GetProperty("wilcoxon").EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!,
            c => c.GetProperty("d").EnumerateArray().Select(v => v.GetDouble()).ToArray());
        foreach (var c in Fixture.GetProperty("mean_intervals").EnumerateArray())
        {
            var (low, high) = StudentT.MeanInterval(cases[c.GetProperty("name").GetString()!]);
            Assert.Equal(c.GetProperty("low").GetDouble(), low, 7);
            Assert.Equal(c.GetProperty("high").GetDouble(), high, 7);
        }
        Assert.True(double.IsNaN(StudentT.MeanInterval([1.0]).Low));
        output.WriteLine($"t cdf: max absolute difference {worst:E2}");
    }
}
