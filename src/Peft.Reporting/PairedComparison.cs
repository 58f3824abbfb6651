using Peft.Reporting.Statistics;

namespace Peft.Reporting;

/// <summary>
/// A method against the baseline over paired cells (same dataset, shots, seed): at one shots value, or over all
/// shots when <see cref="Shots"/> is null. Differences are method − baseline in percentage points;
/// a tie is a difference of zero (after rounding to 1e-9 points); <see cref="UnpairedCells"/> counts the
/// method's cells with no baseline cell to pair with. [<see cref="IntervalLow"/>, <see cref="IntervalHigh"/>] is the 95%
/// Student t confidence interval of the mean difference over the pairs (NaN with fewer than two).
/// </summary>
public sealed record PairedComparison(
    string Method,
    string Baseline,
    int? Shots,
    int Pairs,
    double MeanDifference,
    int Wins,
    int Ties,
    int Losses,
    double SignTestPValue,
    WilcoxonResult Wilcoxon,
    int UnpairedCells,
    double IntervalLow = double.NaN,
    double IntervalHigh = double.NaN)
{
    /// <summary>Whether both paired tests reject "no difference" at <paramref name="alpha"/>.</summary>
    public bool BothTestsReject(double alpha = 0.05) => SignTestPValue < alpha && Wilcoxon.PValue < alpha;
}
