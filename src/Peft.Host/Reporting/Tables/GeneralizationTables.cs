using Peft.Host.Experiments;

namespace Peft.Host.Reporting.Tables;

/// <summary>
/// The tables of the protocols that test on classes a method was not trained on, in the papers' layouts:
/// base-to-new (CoCoOp, table 1: Base, New and their harmonic mean H, for the average over datasets and per dataset)
/// and cross-dataset transfer (CoCoOp, table 2: the source and each target, and the targets' average). A method that
/// cannot classify unseen classes shows <see cref="NotApplicable"/>, never 0.
/// </summary>
public static class GeneralizationTables
{
    public const string NotApplicable = "n/a";

    /// <summary>Harmonic mean of base and new accuracy: 2·B·N / (B + N), as CoCoOp reports H (of the mean accuracies).</summary>
    public static double HarmonicMean(double b, double n) => b + n == 0 ? 0 : 2 * b * n / (b + n);

    /// <param name="overviewOnly">Per shots only the average over datasets (or the one dataset's table): the terminal's summary.</param>
    public static IReadOnlyList<ReportTable> BaseToNew(ExperimentGrid grid, bool overviewOnly = false)
    {
        var cells = grid.Cells.Where(c => c.New is not null).ToList();
        var tables = new List<ReportTable>();
        if (cells.Count == 0) return tables;
        var datasets = grid.Datasets.Where(d => cells.Any(c => c.Dataset == d)).ToList();
        foreach (var shots in cells.Select(c => c.Shots).Distinct().Order())
        {
            var methods = grid.Methods.Where(m => cells.Any(c => c.Method == m && c.Shots == shots)).ToList();
            // Per (method, dataset): mean over seeds of base and of new (null new = not applicable; null pair = no cells).
            (double Base, double? New, int Seeds)? Means(string method, string dataset)
            {
                var mine = cells.Where(c => c.Method == method && c.Dataset == dataset && c.Shots == shots).ToList();
                if (mine.Count == 0) return null;
                double? n = mine.All(c => c.New!.Applicable) ? mine.Average(c => c.New!.TestTop1!.Value) : null;
                return (mine.Average(c => c.TestTop1), n, mine.Count);
            }
            IReadOnlyList<ReportCell> Row(string method, (double Base, double? New, int Seeds)? m) => m is not { } v
                ? [method, ValueFormat.Missing, ValueFormat.Missing, ValueFormat.Missing]
                : [method, F(v.Base), v.New is double n ? F(n) : NotApplicable, v.New is double n2 ? F(HarmonicMean(v.Base, n2)) : NotApplicable];

            if (datasets.Count > 1)
            {
                var rows = methods.Select(method =>
                {
                    var per = datasets.Select(d => Means(method, d)).ToList();
                    if (per.Any(p => p is null)) return Row(method, null);
                    double? n = per.All(p => p!.Value.New is not null) ? per.Average(p => p!.Value.New!.Value) : null;
                    return Row(method, (per.Average(p => p!.Value.Base), n, 0));
                }).ToList();
                tables.Add(Bold(new ReportTable($"Base-to-new generalisation, {ReportTables.ShotsLabel(shots)}: average over {datasets.Count} datasets ({string.Join(", ", datasets)})",
                    ["Method", "Base", "New", "H"], rows, [])));
            }
            if (overviewOnly && datasets.Count > 1) continue;
            foreach (var dataset in datasets)
                tables.Add(Bold(new ReportTable($"Base-to-new generalisation, {ReportTables.ShotsLabel(shots)}: {dataset}",
                    ["Method", "Base", "New", "H"], methods.Select(m => Row(m, Means(m, dataset))).ToList(), [])));
        }
        return tables;
    }

    public static IReadOnlyList<ReportTable> Transfer(ExperimentGrid grid)
    {
        var tables = new List<ReportTable>();
        foreach (var source in grid.Datasets)
        {
            var cells = grid.Cells.Where(c => c.Dataset == source && c.Transfer is { Count: > 0 }).ToList();
            if (cells.Count == 0) continue;
            var targets = cells.SelectMany(c => c.Transfer!.Keys).Distinct(StringComparer.Ordinal).ToList();
            foreach (var shots in cells.Select(c => c.Shots).Distinct().Order())
            {
                var methods = grid.Methods.Where(m => cells.Any(c => c.Method == m && c.Shots == shots)).ToList();
                var rows = methods.Select(method =>
                {
                    var mine = cells.Where(c => c.Method == method && c.Shots == shots).ToList();
                    ReportCell Target(string t)
                    {
                        if (mine.Any(c => !c.Transfer!.ContainsKey(t))) return ValueFormat.Missing;
                        if (mine.Any(c => !c.Transfer![t].Applicable)) return NotApplicable;
                        return ValueFormat.MeanStd(SeedSummary.Of(mine.Select(c => c.Transfer![t].TestTop1!.Value).ToList()));
                    }
                    var perTarget = targets.Select(Target).ToList();
                    // The targets' average per seed, then over seeds (n/a when any target is).
                    ReportCell average = perTarget.Any(p => p.Text == NotApplicable) ? NotApplicable
                        : perTarget.Any(p => p.Text == ValueFormat.Missing) ? ValueFormat.Missing
                        : ValueFormat.MeanStd(SeedSummary.Of(mine.Select(c => targets.Average(t => c.Transfer![t].TestTop1!.Value)).ToList()));
                    return (IReadOnlyList<ReportCell>)[method, ValueFormat.MeanStd(SeedSummary.Of(mine.Select(c => c.TestTop1).ToList())), .. perTarget, average];
                }).ToList();
                tables.Add(Bold(new ReportTable($"Cross-dataset transfer, {ReportTables.ShotsLabel(shots)}: trained on {source}, test top-1 (%) on each target with its own classes",
                    ["Method", $"{source} (source)", .. targets, "target average"], rows, [])));
            }
        }
        return tables;
    }

    static string F(double v) => v.ToString("F2", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Marks the best number of each numeric column (rounded to 2 decimals) when more than one method has one.</summary>
    static ReportTable Bold(ReportTable table)
    {
        var rows = table.Rows.Select(r => r.ToList()).ToList();
        for (int col = 1; col < table.Header.Count; col++)
        {
            var values = rows.Select(r => Leading(r[col].Text)).ToList();
            var present = values.Where(v => v is not null).Select(v => v!.Value).ToList();
            if (present.Count < 2) continue;
            double best = present.Max();
            for (int i = 0; i < rows.Count; i++)
                if (values[i] == best) rows[i][col] = rows[i][col] with { IsBest = true };
        }
        return (table with { Rows = rows }).Validate();
    }

    /// <summary>The number a cell starts with ("71.23 ± 0.40" → 71.23), or null for n/a and missing values.</summary>
    static double? Leading(string text) =>
        double.TryParse(text.Split(' ')[0], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : null;
}
