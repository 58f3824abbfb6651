using Peft.Results;

namespace Peft.Reporting;

/// <summary>Everything a report shows, computed once from the cells: the writers only format it.</summary>
public sealed class ExperimentSummary
{
    /// <summary>The shots value the cost table prefers (the papers' headline setting); else the largest present.</summary>
    public const int PreferredCostShots = 16;

    public string Title { get; }
    public ExperimentGrid Grid { get; }
    public string Baseline { get; }
    public AccuracyTable Top1 { get; }
    public AccuracyTable MeanPerClass { get; }
    /// <summary>Top-1 comparisons against <see cref="Baseline"/>; empty when there is a single method.</summary>
    public IReadOnlyList<PairedComparison> Comparisons { get; }
    public IReadOnlyList<MethodCost> Costs { get; }

    ExperimentSummary(string title, ExperimentGrid grid, string baseline)
    {
        Title = title;
        Grid = grid;
        Baseline = baseline;
        Top1 = AccuracyTable.Aggregate(grid, AccuracyMetric.Top1);
        MeanPerClass = AccuracyTable.Aggregate(grid, AccuracyMetric.MeanPerClass);
        Comparisons = PairedComparisons.Against(grid, baseline, AccuracyMetric.Top1);
        Costs = grid.Methods.Select(m => CostOf(grid, m)).ToArray();
    }

    public AccuracyTable Table(AccuracyMetric metric) => metric == AccuracyMetric.Top1 ? Top1 : MeanPerClass;

    /// <summary>Validates the cells and the baseline (see <see cref="ReportOptions.BaselineMethod"/>) and aggregates.</summary>
    public static ExperimentSummary Build(IReadOnlyList<CellResult> results, ReportOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var grid = ExperimentGrid.From(results);
        string baseline = options.BaselineMethod
            ?? (grid.Methods.Contains(ReportOptions.DefaultBaseline) ? ReportOptions.DefaultBaseline : grid.Methods[0]);
        if (!grid.Methods.Contains(baseline, StringComparer.Ordinal))
            throw new ReportException($"Baseline method '{baseline}' has no results; methods in the results: {string.Join(", ", grid.Methods)}.");
        return new ExperimentSummary(options.Title, grid, baseline);
    }

    static MethodCost CostOf(ExperimentGrid grid, string method)
    {
        var cells = grid.Cells.Where(c => c.Method == method).ToArray();
        int shots = cells.Any(c => c.Shots == PreferredCostShots) ? PreferredCostShots : cells.Max(c => c.Shots);
        var at = cells.Where(c => c.Shots == shots).ToArray();
        return new MethodCost(method, shots, at.Length,
            at.Average(c => c.FitSeconds),
            at.Average(c => (double)c.TrainableParameters),
            at.Min(c => c.TrainableParameters),
            at.Max(c => c.TrainableParameters),
            at.Average(c => c.PeakMemoryMb),
            MeanOf(at.Select(c => c.MemoryIncreaseMb)),
            at.Min(c => c.Threads), at.Max(c => c.Threads),
            MeanOf(at.Select(c => c.LoadAverage)));
    }

    static double MeanOf(IEnumerable<double?> values)
    {
        var present = values.OfType<double>().ToArray();
        return present.Length == 0 ? double.NaN : present.Average();
    }
}
