namespace Peft.Reporting.Statistics;

/// <summary>
/// The two-sided exact sign test: under the null hypothesis wins ~ Binomial(wins + losses, 1/2); ties are dropped
/// before. Equals <c>scipy.stats.binomtest(wins, wins + losses, 0.5).pvalue</c> (for p = 1/2 the distribution is
/// symmetric, so SciPy's "outcomes at most as likely" rule is twice the smaller tail, capped at 1).
/// </summary>
public static class SignTest
{
    /// <summary>The p-value, or NaN when there is no pair left (wins = losses = 0).</summary>
    public static double TwoSidedPValue(int wins, int losses)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(wins);
        ArgumentOutOfRangeException.ThrowIfNegative(losses);
        int n = wins + losses;
        if (n == 0) return double.NaN;
        int k = Math.Min(wins, losses);
        if (2 * k == n) return 1.0;
        return Math.Min(1.0, 2.0 * LowerTail(n, k));
    }

    /// <summary>P(X ≤ k) for X ~ Binomial(n, 1/2), k &lt; n/2.</summary>
    static double LowerTail(int n, int k)
    {
        // Terms relative to C(n, k), walking down: C(n, i-1) = C(n, i) · i / (n - i + 1); summed smallest first.
        var relative = new double[k + 1];
        relative[k] = 1.0;
        for (int i = k; i > 0; i--) relative[i - 1] = relative[i] * i / (n - i + 1);
        double sum = 0;
        for (int i = 0; i <= k; i++) sum += relative[i];

        // log C(n, k) − n log 2; in log space because 2ⁿ overflows a double beyond n = 1023.
        double logChoose = 0;
        for (int j = 1; j <= k; j++) logChoose += Math.Log((double)(n - k + j) / j);
        return Math.Exp(logChoose - n * Math.Log(2.0)) * sum;
    }
}
