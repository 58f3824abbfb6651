using System.Text;
using Peft.Reporting.Tables;

namespace Peft.Reporting.Writers;

/// <summary>
/// Renders <c>report.html</c>: one self-contained file with the same content as <c>report.md</c>. Plots are embedded as
/// base64 data URIs so the file can be mailed, attached to an MLflow run or opened from anywhere without its folder
/// (about 50 KB per plot); the PNG files are written next to it as well. All text is HTML-escaped.
/// </summary>
public static class HtmlReport
{
    const string Style = """
        body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
        h1{font-size:1.7em}h2{margin-top:1.8em;border-bottom:1px solid #ddd;padding-bottom:.2em}h3{margin-top:1.4em}
        table{border-collapse:collapse;margin:.4em 0 1.2em;font-size:.92em}
        caption{text-align:left;font-weight:600;padding:.3em 0}
        th,td{border:1px solid #d0d7de;padding:.3em .7em;text-align:right;white-space:nowrap}
        th:first-child,td:first-child{text-align:left}
        thead th{background:#f3f5f7}tbody tr:nth-child(even){background:#fafbfc}
        td.best{font-weight:700}td.text,th.text{text-align:left}
        .notes{font-size:.85em;color:#555;margin:-.8em 0 1.2em}
        p.convention{font-size:.92em;color:#444}
        img{max-width:100%;height:auto;display:block;margin:.5em 0 1.5em}
        """;

    public static string Render(ExperimentSummary summary, IReadOnlyList<ReportPlot> plots)
    {
        ArgumentNullException.ThrowIfNull(summary);
        ArgumentNullException.ThrowIfNull(plots);
        var h = new StringBuilder();
        h.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>")
            .Append(Escape(summary.Title)).Append("</title>\n<style>\n").Append(Style).Append("</style>\n</head>\n<body>\n");
        h.Append("<h1>").Append(Escape(summary.Title)).Append("</h1>\n");
        Paragraph(h, ReportText.Intro(summary));
        Table(h, ReportTables.Overview(summary));
        if (summary.Grid.Methods.Count > 1)
        {
            h.Append("<h2>Verdict</h2>\n");
            Paragraph(h, ReportText.VerdictConvention(summary), "convention");
            Table(h, ReportTables.Verdict(summary));
        }

        h.Append("<h2>Results averaged over datasets</h2>\n");
        Paragraph(h, ReportText.AverageConvention, "convention");
        Table(h, ReportTables.Accuracy(summary, AccuracyMetric.Top1));
        MeanPerClass(h, summary, null);
        Images(h, plots.Where(p => p.Dataset is null && p.Section is null));

        h.Append("<h2>Comparison with ").Append(Escape(summary.Baseline)).Append("</h2>\n");
        if (summary.Grid.Methods.Count < 2) Paragraph(h, ReportText.SingleMethod(summary));
        else
        {
            Paragraph(h, ReportText.ComparisonConvention(summary), "convention");
            Table(h, ReportTables.Comparison(summary));
        }

        if (ShiftTables.Of(summary.Grid) is { Count: > 0 } shift)
        {
            h.Append("<h2>Distribution shift</h2>\n");
            Paragraph(h, ReportText.ShiftConvention, "convention");
            foreach (var table in shift) Table(h, table);
            Images(h, plots.Where(p => p.Section == ReportPlot.ShiftSection));
        }

        if (GeneralizationTables.BaseToNew(summary.Grid) is { Count: > 0 } baseToNew)
        {
            h.Append("<h2>Base-to-new generalisation</h2>\n");
            Paragraph(h, ReportText.BaseToNewConvention, "convention");
            foreach (var table in baseToNew) Table(h, table);
            Images(h, plots.Where(p => p.Section == ReportPlot.BaseToNewSection));
        }

        if (GeneralizationTables.Transfer(summary.Grid) is { Count: > 0 } transfer)
        {
            h.Append("<h2>Cross-dataset transfer</h2>\n");
            Paragraph(h, ReportText.TransferConvention, "convention");
            foreach (var table in transfer) Table(h, table);
            Images(h, plots.Where(p => p.Section == ReportPlot.TransferSection));
        }

        h.Append("<h2>Cost</h2>\n");
        Paragraph(h, ReportText.CostConvention, "convention");
        Table(h, ReportTables.Cost(summary));

        h.Append("<h2>Per dataset</h2>\n");
        Paragraph(h, ReportText.PlotConvention, "convention");
        foreach (var dataset in summary.Grid.Datasets)
        {
            h.Append("<h3>").Append(Escape(dataset)).Append("</h3>\n");
            Table(h, ReportTables.Accuracy(summary, AccuracyMetric.Top1, dataset));
            MeanPerClass(h, summary, dataset);
            Images(h, plots.Where(p => p.Dataset == dataset));
        }
        h.Append("</body>\n</html>\n");
        return h.ToString();
    }

    static void MeanPerClass(StringBuilder h, ExperimentSummary summary, string? dataset)
    {
        if (summary.Grid.MeanPerClassDiffers(dataset)) Table(h, ReportTables.Accuracy(summary, AccuracyMetric.MeanPerClass, dataset));
        else Paragraph(h, ReportText.MeanPerClassEqual(dataset), "convention");
    }

    static void Paragraph(StringBuilder h, string text, string? cssClass = null) =>
        h.Append(cssClass is null ? "<p>" : $"<p class=\"{cssClass}\">").Append(Escape(text)).Append("</p>\n");

    static void Images(StringBuilder h, IEnumerable<ReportPlot> plots)
    {
        foreach (var plot in plots)
            h.Append("<img alt=\"").Append(Escape(plot.Title)).Append("\" width=\"900\" src=\"data:image/png;base64,")
                .Append(Convert.ToBase64String(plot.Png)).Append("\">\n");
    }

    static void Table(StringBuilder h, ReportTable table)
    {
        h.Append("<table>\n<caption>").Append(Escape(table.Caption)).Append("</caption>\n<thead><tr>");
        for (int i = 0; i < table.Header.Count; i++)
            h.Append(i < table.TextColumns ? "<th class=\"text\">" : "<th>").Append(Escape(table.Header[i])).Append("</th>");
        h.Append("</tr></thead>\n<tbody>\n");
        foreach (var row in table.Rows)
        {
            h.Append("<tr>");
            for (int i = 0; i < row.Count; i++)
                h.Append(row[i].IsBest ? "<td class=\"best\">" : i < table.TextColumns ? "<td class=\"text\">" : "<td>")
                    .Append(Escape(row[i].Text)).Append("</td>");
            h.Append("</tr>\n");
        }
        h.Append("</tbody>\n</table>\n");
        if (table.Notes.Count > 0)
        {
            h.Append("<div class=\"notes\">");
            for (int i = 0; i < table.Notes.Count; i++)
                h.Append(i > 0 ? "<br>" : "").Append(Escape($"[{i + 1}] {table.Notes[i]}"));
            h.Append("</div>\n");
        }
    }

    /// <summary>Escapes the five characters with meaning in HTML text and attribute values.</summary>
    public static string Escape(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (char ch in text)
            sb.Append(ch switch
            {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                '\'' => "&#39;",
                _ => ch.ToString(),
            });
        return sb.ToString();
    }
}
