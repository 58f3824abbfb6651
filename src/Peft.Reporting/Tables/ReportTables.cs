using Peft.Reporting.Statistics;

namespace Peft.Reporting.Tables;

/// <summary>The report's tables, built once from an <see cref="ExperimentSummary"/> and rendered by each writer.</summary>
public static class ReportTables
{
    public static string ShotsLabel(int shots) => shots == 1 ? "1 shot" : $"{shots} shots";

    /// <summary>What was run: methods, datasets, shots, seeds, cells (present of the full grid), baseline.</summary>
    public static ReportTable Overview(ExperimentSummary summary)
    {
        var g = summary.Grid;
        long full = (long)g.Methods.Count * g.Datasets.Count * g.Shots.Count * g.Seeds.Count;
        var rows = new List<IReadOnlyList<ReportCell>>
        {
            new ReportCell[] { "Methods", $"{g.Methods.Count}: {string.Join(", ", g.Methods)}" },
            new ReportCell[] { "Datasets", $"{g.Datasets.Count}: {string.Join(", ", g.Datasets)}" },
            new ReportCell[] { "Shots", string.Join(", ", g.Shots) },
            new ReportCell[] { "Seeds", string.Join(", ", g.Seeds) },
            new ReportCell[] { "Cells", g.Cells.Count == full ? $"{g.Cells.Count}" : $"{g.Cells.Count} of {full} (some cells missing)" },
            new ReportCell[] { "Baseline", summary.Baseline },
        };
        return new ReportTable("Experiment", ["Item", "Value"], rows, []) { TextColumns = 2 }.Validate();
    }

    /// <summary>
    /// The verdict, per shots value: the best method on the average over datasets, its mean paired difference to the
    /// baseline over (dataset, seed) pairs with the 95% confidence interval, and whether both paired tests support it.
    /// </summary>
    public static ReportTable Verdict(ExperimentSummary summary)
    {
        var g = summary.Grid;
        var rows = new List<IReadOnlyList<ReportCell>>();
        foreach (int shots in g.Shots)
        {
            var candidates = g.Methods.Select(m => (Method: m, Entry: summary.Top1.Average(m, shots))).Where(e => !e.Entry.IsMissing).ToArray();
            if (candidates.Length == 0) continue;
            var best = candidates.MaxBy(e => e.Entry.Mean);
            string accuracy = ValueFormat.Number(best.Entry.Mean, "F2");
            if (best.Method == summary.Baseline)
            {
                rows.Add([ShotsLabel(shots), best.Method, accuracy, "— (the baseline)", "", "no method beats the baseline on average"]);
                continue;
            }
            var c = summary.Comparisons.First(x => x.Method == best.Method && x.Shots == shots);
            string interval = double.IsNaN(c.IntervalLow) ? "" : $" [{ValueFormat.SignedPoints(c.IntervalLow)}, {ValueFormat.SignedPoints(c.IntervalHigh)}]";
            int rejecting = (c.SignTestPValue < 0.05 ? 1 : 0) + (c.Wilcoxon.PValue < 0.05 ? 1 : 0);
            string support = (rejecting switch { 2 => "yes", 1 => "one test only", _ => "no" }) +
                             $" (sign p = {ValueFormat.PValue(c.SignTestPValue)}, Wilcoxon p = {ValueFormat.PValue(c.Wilcoxon.PValue)})";
            rows.Add([ShotsLabel(shots), best.Method, accuracy, ValueFormat.SignedPoints(c.MeanDifference) + interval, c.Pairs.ToString(), support]);
        }
        return new ReportTable($"Best method per shots value, against {summary.Baseline}",
            ["Shots", "Best method", "Average top-1", $"Δ vs {summary.Baseline} (95% CI)", "Pairs", "Paired tests support it"], rows, [])
            { TextColumns = 2 }.Validate();
    }

    /// <summary>Methods × shots "mean ± std" on one dataset, or averaged over datasets when <paramref name="dataset"/> is null.</summary>
    public static ReportTable Accuracy(ExperimentSummary summary, AccuracyMetric metric, string? dataset = null, bool withStd = true)
    {
        var table = summary.Table(metric);
        var g = summary.Grid;
        var notes = new FootnoteList();
        SeedSummary Entry(string method, int shots) =>
            dataset is null ? table.Average(method, shots) : table.PerDataset(method, dataset, shots);

        var best = g.Shots.ToDictionary(s => s, s => g.Methods.Select(m => Entry(m, s)).Where(e => !e.IsMissing)
            .Select(e => Math.Round(e.Mean, 2)).DefaultIfEmpty(double.NaN).Max());
        var rows = g.Methods.Select(method => (IReadOnlyList<ReportCell>)
            [
                new ReportCell(method),
                .. g.Shots.Select(shots =>
                {
                    var e = Entry(method, shots);
                    bool isBest = !e.IsMissing && Math.Round(e.Mean, 2) == best[shots] && g.Methods.Count > 1;
                    return new ReportCell(ValueFormat.MeanStd(e, withStd) + notes.Marker(e.Footnote), isBest);
                }),
            ]).ToArray();
        string caption = dataset is null
            ? $"Average over {g.Datasets.Count} datasets: {metric.Label()}"
            : $"{dataset}: {metric.Label()}";
        return new ReportTable(caption, ["Method", .. g.Shots.Select(ShotsLabel)], rows, notes.Notes).Validate();
    }

    /// <summary>Each method against the baseline (top-1), per shots value and over all shots.</summary>
    public static ReportTable Comparison(ExperimentSummary summary)
    {
        var notes = new FootnoteList();
        var rows = summary.Comparisons.Select(c => (IReadOnlyList<ReportCell>)
        [
            c.Method,
            (c.Shots is int s ? ShotsLabel(s) : "all") + notes.Marker(c.UnpairedCells > 0 ? $"{c.UnpairedCells} cell(s) of {c.Method} without a {c.Baseline} cell to pair with" : null),
            c.Pairs.ToString(),
            ValueFormat.SignedPoints(c.MeanDifference),
            $"{c.Wins} / {c.Ties} / {c.Losses}",
            ValueFormat.PValue(c.SignTestPValue),
            ValueFormat.PValue(c.Wilcoxon.PValue) + notes.Marker(WilcoxonNote(c.Wilcoxon)),
        ]).ToArray();
        return new ReportTable($"Paired comparison with {summary.Baseline} (test top-1)",
            ["Method", "Shots", "Pairs", "Mean Δ (points)", "Wins / ties / losses", "Sign test p", "Wilcoxon p"], rows, notes.Notes).Validate();
    }

    static string? WilcoxonNote(WilcoxonResult w) => w.Method switch
    {
        WilcoxonPValueMethod.Exact => null,
        WilcoxonPValueMethod.Permutation => "exact permutation distribution (zero or tied differences, at most 13 pairs)",
        WilcoxonPValueMethod.Asymptotic => "normal approximation with tie correction (more than 50 pairs, or ties/zeros with more than 13)",
        _ => "no non-zero difference",
    };

    /// <summary>Mean fit time, trainable parameters and peak memory per method at 16 shots (or its largest shots).</summary>
    public static ReportTable Cost(ExperimentSummary summary)
    {
        var rows = summary.Costs.Select(c => (IReadOnlyList<ReportCell>)
        [
            c.Method,
            ShotsLabel(c.Shots),
            c.Cells.ToString(),
            ValueFormat.Number(c.MeanFitSeconds, "0.00"),
            c.MinTrainableParameters == c.MaxTrainableParameters
                ? ValueFormat.Integer(c.MinTrainableParameters)
                : $"{ValueFormat.Number(c.MeanTrainableParameters, "N0")} ({ValueFormat.Integer(c.MinTrainableParameters)}–{ValueFormat.Integer(c.MaxTrainableParameters)})",
            ValueFormat.Number(c.MeanMemoryIncreaseMb, "0.0"),
            ValueFormat.Number(c.MeanPeakMemoryMb, "0.0"),
            c.MinThreads is null ? ValueFormat.Missing : c.MinThreads == c.MaxThreads ? $"{c.MinThreads}" : $"{c.MinThreads}–{c.MaxThreads}",
            ValueFormat.Number(c.MeanLoadAverage, "0.0"),
        ]).ToArray();
        return new ReportTable("Cost per cell (mean over datasets and seeds)",
            ["Method", "Shots", "Cells", "Fit time (s)", "Trainable parameters", "Memory added (MB)", "Process peak (MB)", "Threads", "Load (1 min)"], rows, []).Validate();
    }
}
