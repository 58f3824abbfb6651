using Peft.Reporting.Statistics;

namespace Peft.Reporting;

/// <summary>Builds the <see cref="PairedComparison"/>s of every method against a baseline, per shots value and overall.</summary>
public static class PairedComparisons
{
    /// <summary>
    /// Differences are rounded to this many decimals (of a percentage point) before testing, so that differences
    /// equal on paper but computed from different accuracies (e.g. 71.3 − 70.1 and 60.5 − 59.3) tie as they should.
    /// </summary>
    public const int DifferenceDecimals = 9;

    public static IReadOnlyList<PairedComparison> Against(ExperimentGrid grid, string baseline, AccuracyMetric metric)
    {
        ArgumentNullException.ThrowIfNull(grid);
        if (!grid.Methods.Contains(baseline, StringComparer.Ordinal))
            throw new ReportException($"Baseline method '{baseline}' has no results; methods in the results: {string.Join(", ", grid.Methods)}.");
        var comparisons = new List<PairedComparison>();
        foreach (var method in grid.Methods.Where(m => m != baseline))
        {
            foreach (int shots in grid.Shots)
                comparisons.Add(Compare(grid, method, baseline, metric, [shots], perShots: shots));
            comparisons.Add(Compare(grid, method, baseline, metric, grid.Shots, perShots: null));
        }
        return comparisons;
    }

    static PairedComparison Compare(ExperimentGrid grid, string method, string baseline, AccuracyMetric metric,
        IReadOnlyList<int> shotsValues, int? perShots)
    {
        var differences = new List<double>();
        int unpaired = 0;
        foreach (var dataset in grid.Datasets)
        foreach (int shots in shotsValues)
        foreach (int seed in grid.Seeds)
        {
            var cell = grid.Find(method, dataset, shots, seed);
            if (cell is null) continue;
            var reference = grid.Find(baseline, dataset, shots, seed);
            if (reference is null) { unpaired++; continue; }
            differences.Add(Math.Round(metric.Of(cell) - metric.Of(reference), DifferenceDecimals));
        }
        int wins = differences.Count(d => d > 0), losses = differences.Count(d => d < 0);
        var (low, high) = StudentT.MeanInterval(differences);
        return new PairedComparison(method, baseline, perShots, differences.Count,
            differences.Count == 0 ? double.NaN : differences.Average(),
            wins, differences.Count - wins - losses, losses,
            SignTest.TwoSidedPValue(wins, losses),
            WilcoxonSignedRankTest.TwoSided(differences),
            unpaired, low, high);
    }
}
