using Peft.Host.Experiments;
using Peft.Reporting;
using Peft.Results;

namespace Peft.Cli.Commands;

/// <summary>Writes an experiment's report and prints its main table and where the files are (shared by <c>run</c> and <c>report</c>).</summary>
static class ExperimentReport
{
    /// <param name="datasetOrder">Datasets in the experiment file's order (tables and plots follow it); others sort by name.</param>
    public static (ReportFiles Files, ExperimentSummary Summary) Write(string name, IReadOnlyList<CellResult> results, string outputDir, string? baseline,
        IReadOnlyList<string>? datasetOrder = null, IReadOnlyList<AblationPoint>? ablation = null)
    {
        var rank = (datasetOrder ?? []).Select((d, i) => (d, i)).ToDictionary(x => x.d, x => x.i);
        results = results.OrderBy(r => rank.GetValueOrDefault(r.Dataset, int.MaxValue)).ThenBy(r => r.Dataset, StringComparer.Ordinal).ThenBy(r => r.Shots)
            .ThenBy(r => r.Seed).ThenBy(r => r.Method, StringComparer.Ordinal).ToList();
        var options = new ReportOptions(outputDir) { Title = name, BaselineMethod = baseline };
        var summary = ExperimentSummary.Build(results, options);
        var files = ReportWriter.Write(summary, outputDir);
        Console.WriteLine(TerminalTable.Render(summary));
        if (TerminalTable.RenderProtocols(summary) is { Length: > 0 } protocols) Console.Write(protocols);
        Console.Error.WriteLine($"report:   {files.Markdown}");
        Console.Error.WriteLine($"          {files.Html}");
        Console.Error.WriteLine($"plots:    {Path.GetDirectoryName(files.Plots.FirstOrDefault() ?? files.Markdown)}");
        // The ablation view (every grid point on test) is its own file, so it is never read as the results.
        if (AblationReport.Write(ablation ?? [], outputDir, name) is [var ablationFile, ..])
            Console.Error.WriteLine($"ablation: {ablationFile} (every grid point's test accuracy; not used for selection)");
        return (files, summary);
    }
}
