using Peft.Results;

namespace Peft.Reporting.Tables;

/// <summary>
/// The distribution-shift tables, laid out as CoOp's, CLIP-Adapter's and Tip-Adapter's domain-generalisation tables:
/// per source dataset with targets and per shots value, one row per method with the source's test top-1, each
/// target's, and the average over the targets (mean ± std over seeds).
/// </summary>
public static class ShiftTables
{
    public static IReadOnlyList<ReportTable> Of(ExperimentGrid grid)
    {
        var tables = new List<ReportTable>();
        foreach (var source in grid.Datasets)
        {
            var cells = grid.Cells.Where(c => c.Dataset == source && c.Shift is { Count: > 0 }).ToList();
            if (cells.Count == 0) continue;
            var targets = cells.SelectMany(c => c.Shift!.Keys).Distinct(StringComparer.Ordinal).ToList();
            foreach (var shots in cells.Select(c => c.Shots).Distinct().Order())
            {
                var methods = grid.Methods.Where(m => cells.Any(c => c.Method == m && c.Shots == shots)).ToList();
                SeedSummary Summary(string method, Func<CellResult, double?> value)
                {
                    var values = cells.Where(c => c.Method == method && c.Shots == shots).Select(value).ToList();
                    return values.Any(v => v is null) || values.Count == 0
                        ? SeedSummary.Missing("a cell without this target")
                        : SeedSummary.Of(values.Select(v => v!.Value).ToList());
                }
                var columns = new List<Func<CellResult, double?>> { c => c.TestTop1 };
                columns.AddRange(targets.Select(t => (Func<CellResult, double?>)(c => c.Shift!.TryGetValue(t, out var a) ? a.TestTop1 : null)));
                columns.Add(c => targets.All(t => c.Shift!.ContainsKey(t)) ? targets.Average(t => c.Shift![t].TestTop1) : null);
                var summaries = methods.ToDictionary(m => m, m => columns.Select(col => Summary(m, col)).ToList());
                var best = Enumerable.Range(0, columns.Count).Select(i => summaries.Values.Select(s => s[i]).Where(s => !s.IsMissing)
                    .Select(s => Math.Round(s.Mean, 2)).DefaultIfEmpty(double.NaN).Max()).ToList();
                var rows = methods.Select(m => (IReadOnlyList<ReportCell>)
                [
                    new ReportCell(m),
                    .. summaries[m].Select((s, i) => new ReportCell(ValueFormat.MeanStd(s), !s.IsMissing && methods.Count > 1 && Math.Round(s.Mean, 2) == best[i])),
                ]).ToArray();
                tables.Add(new ReportTable($"Distribution shift, {ReportTables.ShotsLabel(shots)}: trained on {source}, test top-1 (%) on its test split and on each target",
                    ["Method", $"{source} (source)", .. targets, "target average"], rows, []).Validate());
            }
        }
        return tables;
    }
}
