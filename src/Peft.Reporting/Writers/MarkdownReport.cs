using System.Text;
using Peft.Reporting.Tables;

namespace Peft.Reporting.Writers;

/// <summary>Renders <c>report.md</c> (GitHub-flavoured Markdown): summary, tables and links to the plot files.</summary>
public static class MarkdownReport
{
    public static string Render(ExperimentSummary summary, IReadOnlyList<ReportPlot> plots)
    {
        ArgumentNullException.ThrowIfNull(summary);
        ArgumentNullException.ThrowIfNull(plots);
        var md = new StringBuilder();
        md.Append("# ").Append(Escape(summary.Title)).Append("\n\n");
        md.Append(Escape(ReportText.Intro(summary))).Append("\n\n");
        Table(md, ReportTables.Overview(summary));
        if (summary.Grid.Methods.Count > 1)
        {
            md.Append("## Verdict\n\n").Append(Escape(ReportText.VerdictConvention(summary))).Append("\n\n");
            Table(md, ReportTables.Verdict(summary));
        }

        md.Append("## Results averaged over datasets\n\n").Append(Escape(ReportText.AverageConvention)).Append("\n\n");
        Table(md, ReportTables.Accuracy(summary, AccuracyMetric.Top1));
        MeanPerClass(md, summary, null);
        Plots(md, plots.Where(p => p.Dataset is null && p.Section is null));

        md.Append("## Comparison with ").Append(Escape(summary.Baseline)).Append("\n\n");
        if (summary.Grid.Methods.Count < 2)
            md.Append(Escape(ReportText.SingleMethod(summary))).Append("\n\n");
        else
        {
            md.Append(Escape(ReportText.ComparisonConvention(summary))).Append("\n\n");
            Table(md, ReportTables.Comparison(summary));
        }

        if (ShiftTables.Of(summary.Grid) is { Count: > 0 } shift)
        {
            md.Append("## Distribution shift\n\n").Append(Escape(ReportText.ShiftConvention)).Append("\n\n");
            foreach (var table in shift) Table(md, table);
            Plots(md, plots.Where(p => p.Section == ReportPlot.ShiftSection));
        }

        if (GeneralizationTables.BaseToNew(summary.Grid) is { Count: > 0 } baseToNew)
        {
            md.Append("## Base-to-new generalisation\n\n").Append(Escape(ReportText.BaseToNewConvention)).Append("\n\n");
            foreach (var table in baseToNew) Table(md, table);
            Plots(md, plots.Where(p => p.Section == ReportPlot.BaseToNewSection));
        }

        if (GeneralizationTables.Transfer(summary.Grid) is { Count: > 0 } transfer)
        {
            md.Append("## Cross-dataset transfer\n\n").Append(Escape(ReportText.TransferConvention)).Append("\n\n");
            foreach (var table in transfer) Table(md, table);
            Plots(md, plots.Where(p => p.Section == ReportPlot.TransferSection));
        }

        md.Append("## Cost\n\n").Append(Escape(ReportText.CostConvention)).Append("\n\n");
        Table(md, ReportTables.Cost(summary));

        md.Append("## Per dataset\n\n").Append(Escape(ReportText.PlotConvention)).Append("\n\n");
        foreach (var dataset in summary.Grid.Datasets)
        {
            md.Append("### ").Append(Escape(dataset)).Append("\n\n");
            Table(md, ReportTables.Accuracy(summary, AccuracyMetric.Top1, dataset));
            MeanPerClass(md, summary, dataset);
            Plots(md, plots.Where(p => p.Dataset == dataset));
        }
        return md.ToString();
    }

    static void MeanPerClass(StringBuilder md, ExperimentSummary summary, string? dataset)
    {
        if (summary.Grid.MeanPerClassDiffers(dataset)) Table(md, ReportTables.Accuracy(summary, AccuracyMetric.MeanPerClass, dataset));
        else md.Append(Escape(ReportText.MeanPerClassEqual(dataset))).Append("\n\n");
    }

    static void Plots(StringBuilder md, IEnumerable<ReportPlot> plots)
    {
        foreach (var plot in plots)
            md.Append("![").Append(Escape(plot.Title)).Append("](").Append(Uri.EscapeDataString(plot.RelativePath).Replace("%2F", "/")).Append(")\n\n");
    }

    /// <summary>A caption line, a pipe table (text columns left-aligned, numbers right-aligned), then its notes.</summary>
    public static void Table(StringBuilder md, ReportTable table)
    {
        md.Append("**").Append(Escape(table.Caption)).Append("**\n\n");
        md.Append("| ").AppendJoin(" | ", table.Header.Select(Escape)).Append(" |\n");
        md.Append("|").AppendJoin("|", table.Header.Select((_, i) => i < table.TextColumns ? ":---" : "---:")).Append("|\n");
        foreach (var row in table.Rows)
            md.Append("| ").AppendJoin(" | ", row.Select(c => c.IsBest ? $"**{Escape(c.Text)}**" : Escape(c.Text))).Append(" |\n");
        md.Append('\n');
        for (int i = 0; i < table.Notes.Count; i++)
            md.Append(Escape($"[{i + 1}] {table.Notes[i]}")).Append("  \n");
        if (table.Notes.Count > 0) md.Append('\n');
    }

    /// <summary>Backslash-escapes Markdown's punctuation so names like <c>clip_adapter*</c> or <c>a|b</c> print as written.</summary>
    public static string Escape(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (char ch in text)
        {
            if (ch is '\r' or '\n') { sb.Append(' '); continue; }
            if ("\\`*_[]<>|~".Contains(ch)) sb.Append('\\');
            sb.Append(ch);
        }
        return sb.ToString();
    }
}
