namespace Peft.Reporting.Statistics;

/// <summary>
/// Two-sided Wilcoxon signed-rank test on paired differences with SciPy ≥ 1.15's defaults for
/// <c>scipy.stats.wilcoxon(d)</c>: <c>zero_method='wilcox'</c> (zero differences dropped before ranking),
/// <c>correction=False</c>, <c>method='auto'</c>, which with n = number of differences (zeros included) picks
/// <list type="bullet">
/// <item>n &gt; 50: the normal approximation;</item>
/// <item>no zeros and no ties among |d|: the exact distribution of R+;</item>
/// <item>n ≤ 13 (zeros or ties): an exact permutation test over all sign flips, average ranks;</item>
/// <item>otherwise the normal approximation, variance corrected for ties: (m(m+1)(2m+1) − Σ(t³ − t)/2) / 24.</item>
/// </list>
/// Ties are exact equality of |d|: callers that subtract accuracies should round the differences first
/// (SciPy's documentation gives the same advice). Checked against SciPy in the stats fixture.
/// </summary>
public static class WilcoxonSignedRankTest
{
    public const int ExactMaxPairs = 50;
    public const int PermutationMaxPairs = 13;

    public static WilcoxonResult TwoSided(IReadOnlyList<double> differences)
    {
        ArgumentNullException.ThrowIfNull(differences);
        for (int i = 0; i < differences.Count; i++)
            if (!double.IsFinite(differences[i]))
                throw new ArgumentException($"Difference {i} is {differences[i]}; the Wilcoxon test needs finite values.", nameof(differences));

        int n = differences.Count;
        var nonZero = differences.Where(d => d != 0).ToArray();
        int m = nonZero.Length;
        if (m == 0) return new WilcoxonResult(0, double.NaN, 0, WilcoxonPValueMethod.None);

        var (ranks, tieGroupSizes) = AverageRanks(nonZero.Select(Math.Abs).ToArray());
        double rPlus = 0;
        for (int i = 0; i < m; i++) if (nonZero[i] > 0) rPlus += ranks[i];
        double total = m * (m + 1) / 2.0;
        double statistic = Math.Min(rPlus, total - rPlus);

        bool hasTies = tieGroupSizes.Count > 0;
        bool hasZeros = m < n;
        WilcoxonPValueMethod method =
            n > ExactMaxPairs ? WilcoxonPValueMethod.Asymptotic
            : !hasTies && !hasZeros ? WilcoxonPValueMethod.Exact
            : n <= PermutationMaxPairs ? WilcoxonPValueMethod.Permutation
            : WilcoxonPValueMethod.Asymptotic;

        double p = method == WilcoxonPValueMethod.Asymptotic
            ? AsymptoticPValue(rPlus, m, tieGroupSizes)
            : SignFlipPValue(rPlus, ranks);
        return new WilcoxonResult(statistic, p, m, method);
    }

    /// <summary>1-based average ranks of the values and the sizes of tie groups (size ≥ 2).</summary>
    static (double[] Ranks, List<int> TieGroupSizes) AverageRanks(double[] values)
    {
        var order = Enumerable.Range(0, values.Length).OrderBy(i => values[i]).ToArray();
        var ranks = new double[values.Length];
        var ties = new List<int>();
        for (int start = 0; start < order.Length;)
        {
            int end = start;
            while (end + 1 < order.Length && values[order[end + 1]] == values[order[start]]) end++;
            double rank = (start + end) / 2.0 + 1.0;
            for (int j = start; j <= end; j++) ranks[order[j]] = rank;
            if (end > start) ties.Add(end - start + 1);
            start = end + 1;
        }
        return (ranks, ties);
    }

    /// <summary>
    /// 2·min(P(R+ ≤ r), P(R+ ≥ r)), capped at 1, over the 2^m equally likely sign assignments of the given ranks.
    /// With distinct integer ranks this is the exact null distribution; with average ranks, the permutation test.
    /// Ranks are multiples of 1/2, so sums of doubled ranks are integers and the distribution is counted exactly.
    /// </summary>
    static double SignFlipPValue(double rPlus, double[] ranks)
    {
        var doubled = ranks.Select(r => (int)Math.Round(2 * r)).ToArray();
        int maxSum = doubled.Sum();
        var counts = new double[maxSum + 1]; // ≤ 2^50 per entry: exact in a double
        counts[0] = 1;
        int reach = 0;
        foreach (int r in doubled)
        {
            for (int s = reach; s >= 0; s--) if (counts[s] != 0) counts[s + r] += counts[s];
            reach += r;
        }
        int observed = (int)Math.Round(2 * rPlus);
        double atMost = 0, atLeast = 0, all = Math.Pow(2, ranks.Length);
        for (int s = 0; s <= maxSum; s++)
        {
            if (s <= observed) atMost += counts[s];
            if (s >= observed) atLeast += counts[s];
        }
        return Math.Min(1.0, 2.0 * Math.Min(atMost, atLeast) / all);
    }

    static double AsymptoticPValue(double rPlus, int m, List<int> tieGroupSizes)
    {
        double mean = m * (m + 1) / 4.0;
        double variance = m * (m + 1.0) * (2.0 * m + 1.0);
        foreach (int t in tieGroupSizes) variance -= 0.5 * ((double)t * t * t - t);
        double z = (rPlus - mean) / Math.Sqrt(variance / 24.0);
        return NormalDistribution.TwoSidedTail(z);
    }
}
