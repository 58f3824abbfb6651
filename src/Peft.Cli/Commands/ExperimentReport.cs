using Peft.Host.Experiments;
using Peft.Host.Reporting;

namespace Peft.Cli.Commands;

/// <summary>Writes an experiment's report and prints its main table and where the files are (shared by <c>run</c> and <c>report</c>).</summary>
static class ExperimentReport
{
    public static ReportFiles Write(string name, IReadOnlyList<CellResult> results, string outputDir, string? baseline)
    {
        var options = new ReportOptions(outputDir) { Title = name, BaselineMethod = baseline };
        var summary = ExperimentSummary.Build(results, options);
        var files = ReportWriter.Write(summary, outputDir);
        Console.WriteLine(TerminalTable.Render(summary));
        Console.Error.WriteLine($"report:   {files.Markdown}");
        Console.Error.WriteLine($"          {files.Html}");
        Console.Error.WriteLine($"plots:    {Path.GetDirectoryName(files.Plots.FirstOrDefault() ?? files.Markdown)}");
        return files;
    }
}
