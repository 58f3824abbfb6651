using System.Text;
using Peft.Results;
using Peft.Reporting.Tables;
using Spectre.Console;

namespace Peft.Reporting;

/// <summary>
/// The dataset-averaged accuracy table as plain text for the command line, laid out by Spectre.Console: aligned
/// columns, the best value of each column starred, notes below. Fits <c>maxWidth</c> columns (default 120) by dropping
/// the ± std, then shortening method names, if it has to.
/// </summary>
public static class TerminalTable
{
    public const int DefaultWidth = 120;

    public static string Render(IReadOnlyList<CellResult> results, ReportOptions? options = null,
        AccuracyMetric metric = AccuracyMetric.Top1, int maxWidth = DefaultWidth) =>
        Render(ExperimentSummary.Build(results, options ?? new ReportOptions(".")), metric, maxWidth);

    public static string Render(ExperimentSummary summary, AccuracyMetric metric = AccuracyMetric.Top1, int maxWidth = DefaultWidth)
    {
        ArgumentNullException.ThrowIfNull(summary);
        var table = ReportTables.Accuracy(summary, metric);
        var lines = Layout(table, int.MaxValue);
        if (lines.Max(l => l.Length) > maxWidth)
        {
            table = ReportTables.Accuracy(summary, metric, withStd: false);
            lines = Layout(table, int.MaxValue);
        }
        if (lines.Max(l => l.Length) > maxWidth)
        {
            int over = lines.Max(l => l.Length) - maxWidth;
            int nameWidth = Math.Max(8, table.Rows.Max(r => r[0].Text.Length) - over);
            lines = Layout(table, nameWidth);
        }
        var text = new StringBuilder();
        text.Append(summary.Title).Append(" — ").Append(table.Caption).Append('\n');
        foreach (var line in lines) text.Append(line).Append('\n');
        if (summary.Grid.Methods.Count > 1) text.Append("* best in column\n");
        for (int i = 0; i < table.Notes.Count; i++) text.Append($"[{i + 1}] {table.Notes[i]}\n");
        if (summary.Grid.HasOracle) text.Append(ExperimentProtocol.OracleNote).Append('\n');
        return text.ToString();
    }

    /// <summary>
    /// The protocols' summary tables, when the results have them: distribution shift (per source and shots), base-to-new
    /// (the average over datasets, or the one dataset, per shots) and cross-dataset transfer; empty otherwise.
    /// </summary>
    public static string RenderProtocols(ExperimentSummary summary, int maxWidth = DefaultWidth)
    {
        ArgumentNullException.ThrowIfNull(summary);
        var tables = ShiftTables.Of(summary.Grid)
            .Concat(GeneralizationTables.BaseToNew(summary.Grid, overviewOnly: true))
            .Concat(GeneralizationTables.Transfer(summary.Grid));
        var text = new StringBuilder();
        foreach (var table in tables)
        {
            var lines = Layout(table, int.MaxValue);
            if (lines.Max(l => l.Length) > maxWidth)
                lines = Layout(table, Math.Max(8, table.Rows.Max(r => r[0].Text.Length) - (lines.Max(l => l.Length) - maxWidth)));
            text.Append('\n').Append(table.Caption).Append('\n');
            foreach (var line in lines) text.Append(line).Append('\n');
        }
        return text.ToString();
    }

    /// <summary>The table's lines (header, rule, rows); method names cut to <paramref name="nameWidth"/> characters (with "…").</summary>
    static List<string> Layout(ReportTable table, int nameWidth)
    {
        string Name(string s) => s.Length <= nameWidth ? s : s[..(nameWidth - 1)] + "…";
        string Value(ReportCell c) => c.Text + (c.IsBest ? " *" : "  ");
        var grid = new Table().Border(TableBorder.Simple).HideRowSeparators();
        for (int i = 0; i < table.Header.Count; i++)
        {
            var column = new TableColumn(Markup.Escape(i == 0 ? table.Header[i] : table.Header[i] + "  ")) { NoWrap = true };
            grid.AddColumn(i == 0 ? column.LeftAligned() : column.RightAligned());
        }
        foreach (var row in table.Rows)
            grid.AddRow(row.Select((c, i) => Markup.Escape(i == 0 ? Name(c.Text) : Value(c))).ToArray());

        // Laid out at its natural width; the caller decides what to drop when that is too wide.
        var text = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(text),
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = 4096;
        console.Write(grid);
        return text.ToString().Split('\n').Select(l => l.TrimEnd('\r').TrimEnd()).Where(l => l.Length > 0).ToList();
    }
}
