using Peft.Results;

namespace Peft.Reporting.Tables;

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

    /// <summary>Base and new top-1 (%) of one method: means over seeds (and then over datasets for the average); New null = not applicable.</summary>
    public sealed record BaseToNewMeans(double Base, double? New)
    {
        public double? H => New is double n ? HarmonicMean(Base, n) : null;
    }

    /// <summary>The shots values and datasets that have base-to-new cells, in grid order.</summary>
    public static (IReadOnlyList<int> Shots, IReadOnlyList<string> Datasets) BaseToNewScope(ExperimentGrid grid)
    {
        var cells = grid.Cells.Where(c => c.New is not null).ToList();
        return (cells.Select(c => c.Shots).Distinct().Order().ToList(), grid.Datasets.Where(d => cells.Any(c => c.Dataset == d)).ToList());
    }

    /// <summary>
    /// A method's base-to-new means at a shots value on one dataset, or (null) averaged over every dataset with
    /// base-to-new cells; null when it lacks cells there (a method missing on a dataset has no average).
    /// </summary>
    public static BaseToNewMeans? Means(ExperimentGrid grid, string method, int shots, string? dataset)
    {
        if (dataset is null)
        {
            var per = BaseToNewScope(grid).Datasets.Select(d => Means(grid, method, shots, d)).ToList();
            if (per.Count == 0 || per.Any(p => p is null)) return null;
            return new BaseToNewMeans(per.Average(p => p!.Base), per.All(p => p!.New is not null) ? per.Average(p => p!.New!.Value) : null);
        }
        var mine = grid.Cells.Where(c => c.New is not null && c.Method == method && c.Dataset == dataset && c.Shots == shots).ToList();
        if (mine.Count == 0) return null;
        return new BaseToNewMeans(mine.Average(c => c.TestTop1), mine.All(c => c.New!.Applicable) ? mine.Average(c => c.New!.TestTop1!.Value) : null);
    }

    /// <param name="overviewOnly">Per shots only the average over datasets (or the one dataset's table): the terminal's summary.</param>
    public static IReadOnlyList<ReportTable> BaseToNew(ExperimentGrid grid, bool overviewOnly = false)
    {
        var tables = new List<ReportTable>();
        var (allShots, datasets) = BaseToNewScope(grid);
        foreach (var shots in allShots)
        {
            var methods = grid.Methods.Where(m => grid.Cells.Any(c => c.New is not null && c.Method == m && c.Shots == shots)).ToList();
            static IReadOnlyList<ReportCell> Row(string method, BaseToNewMeans? m) => m is null
                ? [method, ValueFormat.Missing, ValueFormat.Missing, ValueFormat.Missing]
                : [method, F(m.Base), m.New is double n ? F(n) : NotApplicable, m.H is double h ? F(h) : NotApplicable];
            if (datasets.Count > 1)
                tables.Add(Bold(new ReportTable($"Base-to-new generalisation, {ReportTables.ShotsLabel(shots)}: average over {datasets.Count} datasets ({string.Join(", ", datasets)})",
                    ["Method", "Base", "New", "H"], methods.Select(m => Row(m, Means(grid, m, shots, null))).ToList(), [])));
            if (overviewOnly && datasets.Count > 1) continue;
            foreach (var dataset in datasets)
                tables.Add(Bold(new ReportTable($"Base-to-new generalisation, {ReportTables.ShotsLabel(shots)}: {dataset}",
                    ["Method", "Base", "New", "H"], methods.Select(m => Row(m, Means(grid, m, shots, dataset))).ToList(), [])));
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
