using Peft.Results;
using Peft.Reporting.Plots;
using Peft.Reporting.Tables;
using Peft.Reporting.Writers;

namespace Peft.Reporting;

/// <summary>
/// Writes a report folder: <c>report.md</c>, <c>report.html</c> (self-contained), <c>results.csv</c> and
/// <c>plots/accuracy-*.png</c> (top-1 versus shots, averaged and per dataset). Each file is written atomically; an
/// existing folder is updated in place: only these files are replaced, nothing else is touched.
/// </summary>
public static class ReportWriter
{
    public const string MarkdownFile = "report.md", HtmlFile = "report.html", CsvFile = "results.csv", PlotFolder = "plots";

    public static ReportFiles Write(IReadOnlyList<CellResult> results, ReportOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.OutputDirectory))
            throw new ReportException("The report's output folder is empty; give a folder to write report.md, report.html and the plots to.");
        var summary = ExperimentSummary.Build(results, options);
        return Write(summary, options.OutputDirectory);
    }

    public static ReportFiles Write(ExperimentSummary summary, string outputDirectory)
    {
        ArgumentNullException.ThrowIfNull(summary);
        string dir = Path.GetFullPath(outputDirectory);
        if (File.Exists(dir)) throw new ReportException($"The report's output folder {dir} is a file.");
        Directory.CreateDirectory(Path.Combine(dir, PlotFolder));

        var plots = RenderPlots(summary);
        foreach (var plot in plots) ReportFileWriter.WriteBytes(Path.Combine(dir, plot.RelativePath), plot.Png);
        string csv = Path.Combine(dir, CsvFile), md = Path.Combine(dir, MarkdownFile), html = Path.Combine(dir, HtmlFile);
        ReportFileWriter.WriteText(csv, ResultsCsv.Render(summary.Grid.Cells));
        ReportFileWriter.WriteText(md, MarkdownReport.Render(summary, plots));
        ReportFileWriter.WriteText(html, HtmlReport.Render(summary, plots));
        return new ReportFiles(dir, md, html, csv, plots.Select(p => Path.Combine(dir, p.RelativePath)).ToArray());
    }

    /// <summary>The average plot, then one per dataset; file names are the dataset names made file-safe (and unique).</summary>
    public static IReadOnlyList<ReportPlot> RenderPlots(ExperimentSummary summary)
    {
        var plots = new List<ReportPlot>
        {
            new("Top-1 accuracy versus shots, average over datasets", $"{PlotFolder}/accuracy-average.png",
                AccuracyPlot.Render(summary, AccuracyMetric.Top1, null), null),
        };
        var used = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "average" };
        foreach (var dataset in summary.Grid.Datasets)
        {
            string stem = FileSafe(dataset);
            for (int i = 2; !used.Add(stem); i++) stem = $"{FileSafe(dataset)}-{i}";
            plots.Add(new ReportPlot($"Top-1 accuracy versus shots, {dataset}", $"{PlotFolder}/accuracy-{stem}.png",
                AccuracyPlot.Render(summary, AccuracyMetric.Top1, dataset), dataset));
        }
        plots.AddRange(ProtocolPlots(summary.Grid));
        return plots;
    }

    /// <summary>
    /// Bar plots of the protocols, next to their tables: base-to-new (Base / New / H per method, the average over datasets
    /// or the one dataset, per shots value), distribution shift and cross-dataset transfer (source and target average per
    /// method, per source and shots value). n/a bars are labelled, never drawn as 0.
    /// </summary>
    static IEnumerable<ReportPlot> ProtocolPlots(ExperimentGrid grid)
    {
        static string Shots(int s) => s == 1 ? "1 shot" : $"{s} shots";
        var (b2nShots, b2nDatasets) = GeneralizationTables.BaseToNewScope(grid);
        foreach (var shots in b2nShots)
        {
            string? dataset = b2nDatasets.Count == 1 ? b2nDatasets[0] : null;
            var groups = grid.Methods.Select(m => (m, GeneralizationTables.Means(grid, m, shots, dataset))).Where(x => x.Item2 is not null)
                .Select(x => (x.m, (IReadOnlyList<double?>)[x.Item2!.Base, x.Item2.New, x.Item2.H])).ToList();
            if (groups.Count == 0) continue;
            string scope = dataset ?? $"average over {b2nDatasets.Count} datasets";
            yield return new ReportPlot($"Base-to-new, {Shots(shots)}, {scope}", $"{PlotFolder}/base-to-new-{shots}shots.png",
                GroupedBarPlot.Render($"Base-to-new generalisation, {Shots(shots)}, {scope}", ["Base", "New", "H"], groups), null)
            { Section = ReportPlot.BaseToNewSection };
        }
        foreach (var (section, prefix) in new[] { (ReportPlot.ShiftSection, "Distribution shift"), (ReportPlot.TransferSection, "Cross-dataset transfer") })
            foreach (var source in grid.Datasets)
            {
                // Per cell: (source test top-1, target average), target average null when a target is n/a or missing.
                var cells = grid.Cells.Where(c => c.Dataset == source && (section == ReportPlot.ShiftSection ? c.Shift is { Count: > 0 } : c.Transfer is { Count: > 0 })).ToList();
                if (cells.Count == 0) continue;
                var targets = cells.SelectMany(c => section == ReportPlot.ShiftSection ? c.Shift!.Keys : c.Transfer!.Keys).Distinct(StringComparer.Ordinal).ToList();
                double? TargetAverage(CellResult c) => section == ReportPlot.ShiftSection
                    ? (targets.All(t => c.Shift!.ContainsKey(t)) ? targets.Average(t => c.Shift![t].TestTop1) : null)
                    : (targets.All(t => c.Transfer!.TryGetValue(t, out var a) && a.Applicable) ? targets.Average(t => c.Transfer![t].TestTop1!.Value) : null);
                foreach (var shots in cells.Select(c => c.Shots).Distinct().Order())
                {
                    var groups = grid.Methods.Select(m => cells.Where(c => c.Method == m && c.Shots == shots).ToList()).Where(l => l.Count > 0)
                        .Select(l => (l[0].Method, (IReadOnlyList<double?>)[l.Average(c => c.TestTop1), l.All(c => TargetAverage(c) is not null) ? l.Average(c => TargetAverage(c)!.Value) : null]))
                        .ToList();
                    yield return new ReportPlot($"{prefix}, {Shots(shots)}: trained on {source}", $"{PlotFolder}/{section}-{FileSafe(source)}-{shots}shots.png",
                        GroupedBarPlot.Render($"{prefix}, {Shots(shots)}: trained on {source}", [$"{source} (source)", $"target average ({targets.Count})"], groups), null)
                    { Section = section };
                }
            }
    }

    static string FileSafe(string name)
    {
        var chars = name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray();
        string safe = new string(chars).Trim('.');
        return safe.Length == 0 ? "dataset" : safe;
    }
}
