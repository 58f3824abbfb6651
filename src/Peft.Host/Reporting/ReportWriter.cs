using Peft.Host.Experiments;
using Peft.Host.Reporting.Plots;
using Peft.Host.Reporting.Writers;

namespace Peft.Host.Reporting;

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
        return plots;
    }

    static string FileSafe(string name)
    {
        var chars = name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray();
        string safe = new string(chars).Trim('.');
        return safe.Length == 0 ? "dataset" : safe;
    }
}
