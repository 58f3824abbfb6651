using System.Globalization;
using System.Text;
using Peft.Results;
using Peft.Reporting.Plots;

namespace Peft.Reporting;

/// <summary>
/// The ablation view of an experiment's grids (<c>"ablation"</c> in the experiment file): for every method with one, each
/// grid point's test and validation top-1 per shots value, averaged over datasets and seeds (and per dataset), as the
/// seed paper's figures for the residual ratio and the bottleneck reduction. Written next to the report as
/// <c>ablation.md</c>, <c>ablation.csv</c> and <c>plots/ablation-&lt;method&gt;.png</c>, and labelled everywhere as a view
/// of the sweep: the cells' results are still the validation-selected points.
/// </summary>
public static class AblationReport
{
    public const string MarkdownFile = "ablation.md", CsvFile = "ablation.csv";

    public const string Warning =
        "**Ablation view, not a result.** Each cell's reported accuracy is its grid point with the best *validation* " +
        "accuracy. The test accuracies below were computed for every point only to show the sweep; they were never " +
        "used to choose anything.";

    /// <summary>Writes the files (nothing when <paramref name="points"/> is empty) and returns their paths.</summary>
    public static IReadOnlyList<string> Write(IReadOnlyList<AblationPoint> points, string outputDirectory, string title)
    {
        if (points.Count == 0) return [];
        string dir = Path.GetFullPath(outputDirectory);
        Directory.CreateDirectory(Path.Combine(dir, ReportWriter.PlotFolder));
        var written = new List<string>();
        var markdown = new StringBuilder();
        markdown.Append("# ").Append(title).Append(" — ablation view (every grid point)\n\n> ").Append(Warning).Append("\n\n");
        foreach (var method in points.Select(p => p.Method).Distinct().Order(StringComparer.Ordinal))
        {
            var mine = points.Where(p => p.Method == method).ToList();
            string plot = $"{ReportWriter.PlotFolder}/ablation-{FileSafe(method)}.png";
            ReportFileWriter.WriteBytes(Path.Combine(dir, plot), AblationPlot.Render(mine, $"{method}: every grid point (ablation view)"));
            written.Add(Path.Combine(dir, plot));
            markdown.Append("## ").Append(method).Append("\n\n");
            markdown.Append("Test top-1 (%) of each grid point, mean ± std over ").Append(Describe(mine))
                .Append("; validation top-1 in brackets; *chosen*: how many cells validation selected the point in.\n\n");
            Table(markdown, mine);
            markdown.Append("![").Append(method).Append(" ablation](").Append(plot).Append(")\n\n");
            var datasets = mine.Select(p => p.Dataset).Distinct(StringComparer.Ordinal).ToList();
            if (datasets.Count > 1)
                foreach (var dataset in datasets)
                {
                    markdown.Append("### ").Append(method).Append(" on ").Append(dataset).Append("\n\n");
                    Table(markdown, mine.Where(p => p.Dataset == dataset).ToList());
                }
        }
        string md = Path.Combine(dir, MarkdownFile), csv = Path.Combine(dir, CsvFile);
        ReportFileWriter.WriteText(md, markdown.ToString());
        ReportFileWriter.WriteText(csv, Csv(points));
        return [md, csv, .. written];
    }

    /// <summary>Grid points in grid order, labelled by their axis values.</summary>
    public static IReadOnlyList<(int Index, string Label)> Points(IEnumerable<AblationPoint> points) =>
        points.GroupBy(p => p.Index).OrderBy(g => g.Key).Select(g => (g.Key, g.First().Label)).ToList();

    /// <summary>Mean and sample standard deviation (NaN with one value) of <paramref name="values"/>.</summary>
    public static (double Mean, double Std) MeanStd(IReadOnlyList<double> values)
    {
        if (values.Count == 0) return (double.NaN, double.NaN);
        double mean = values.Average();
        double std = values.Count > 1 ? Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1)) : double.NaN;
        return (mean, std);
    }

    static string Describe(IReadOnlyList<AblationPoint> points)
    {
        int datasets = points.Select(p => p.Dataset).Distinct().Count(), seeds = points.Select(p => p.Seed).Distinct().Count();
        return $"{datasets} dataset{(datasets == 1 ? "" : "s")} × {seeds} seed{(seeds == 1 ? "" : "s")}";
    }

    static void Table(StringBuilder md, IReadOnlyList<AblationPoint> points)
    {
        var shots = points.Select(p => p.Shots).Distinct().Order().ToList();
        md.Append("| point | ").Append(string.Join(" | ", shots.Select(s => s == 1 ? "1 shot" : $"{s} shots"))).Append(" | chosen |\n");
        md.Append("|---|").Append(string.Concat(shots.Select(_ => "---:|"))).Append("---:|\n");
        foreach (var (index, label) in Points(points))
        {
            md.Append("| ").Append(label).Append(" |");
            foreach (var s in shots)
            {
                var at = points.Where(p => p.Index == index && p.Shots == s).ToList();
                var (test, std) = MeanStd(at.Select(p => p.TestTop1).ToList());
                var (val, _) = MeanStd(at.Select(p => p.ValTop1).ToList());
                md.Append(' ').Append(at.Count == 0 ? "–" : F(test) + (double.IsNaN(std) ? "" : " ± " + F(std)) + $" ({F(val)})").Append(" |");
            }
            var all = points.Where(p => p.Index == index).ToList();
            md.Append(' ').Append(all.Count(p => p.Selected)).Append('/').Append(all.Count).Append(" |\n");
        }
        md.Append('\n');
    }

    static string Csv(IReadOnlyList<AblationPoint> points)
    {
        var csv = new StringBuilder("dataset,shots,seed,method,point,values,val_top1,test_top1,fit_seconds,selected\n");
        foreach (var p in points)
            csv.Append(Quote(p.Dataset)).Append(',').Append(p.Shots).Append(',').Append(p.Seed).Append(',').Append(Quote(p.Method)).Append(',')
                .Append(p.Index).Append(',').Append(Quote(p.Label)).Append(',').Append(R(p.ValTop1)).Append(',').Append(R(p.TestTop1)).Append(',')
                .Append(R(p.FitSeconds)).Append(',').Append(p.Selected ? "true" : "false").Append('\n');
        return csv.ToString();
    }

    static string Quote(string s) => s.IndexOfAny([',', '"', '\n']) >= 0 ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;
    static string F(double v) => v.ToString("F2", CultureInfo.InvariantCulture);
    static string R(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    static string FileSafe(string name) => new(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray());
}
