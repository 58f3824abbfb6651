using System.CommandLine;
using Peft.Host;
using Peft.Host.Experiments;
using Peft.Reporting;
using Peft.Results;

namespace Peft.Cli.Commands;

/// <summary>
/// <c>peft report</c>: Markdown, HTML, CSV and PNG plots of an experiment's results, read from the experiment's local
/// results (an experiment file, or its output folder) or from an <c>mlruns</c> folder; the main table goes to stdout.
/// </summary>
public static class ReportCommand
{
    public static Command Create()
    {
        var args = new ExperimentArguments();
        var source = new Argument<string>("source")
        {
            Description = "An experiment file (experiments/*.json), an experiment's output folder (runs/<name>), or an mlruns folder",
        };
        var experiment = new Option<string?>("--experiment") { Description = "With an mlruns folder: the MLflow experiment to report (needed when it holds several)" };
        var output = new Option<string?>("--out") { Description = "Report folder (default: <output>/report for an experiment, ./report-<name> for mlruns)" };
        var baseline = new Option<string?>("--baseline") { Description = $"Method the others are compared with (default: {ReportOptions.DefaultBaseline} if present, else the first)" };
        var allowMissing = new Option<bool>("--allow-missing")
        {
            Description = "With an experiment file: report the cells that have results even when planned cells have none (they are listed as a warning); without it that is an error",
        };
        var command = new Command("report", "Write report.md, report.html, results.csv and accuracy-vs-shots plots for an experiment, and print its main table.")
        {
            source, experiment, output, baseline, allowMissing, args.Set, args.Plugins,
        };
        command.SetAction(parse =>
        {
            var path = parse.GetValue(source)!;
            string name, defaultOut;
            IReadOnlyList<string>? order = null;
            IReadOnlyList<CellResult> results;
            IReadOnlyList<AblationPoint> ablation = [];
            if (File.Exists(path))
            {
                var spec = args.ReadSpec(path, parse, forReport: true);
                // Checked against the plan: a report never averages fewer cells than planned without saying so.
                var check = ResultCheck.Of(new LocalResultStore(spec.OutputDir), new ExperimentPlan(spec).Cells);
                if (check.Edited.Count > 0)
                    throw new ReportException($"{path}: {check.DescribeEdited()}; '{args.CommandLine("run", path, parse)}' restores them from the tracker or reruns them");
                if (check.Missing.Count > 0 && check.Results.Count > 0)
                {
                    if (!parse.GetValue(allowMissing))
                        throw new ReportException($"{path}: {check.DescribeMissing()}; '{args.CommandLine("run", path, parse)}' completes them, or --allow-missing reports the rest");
                    Console.Error.WriteLine($"WARNING: {check.DescribeMissing()}; the report covers only the {check.Results.Count} cells with results");
                }
                (name, results, defaultOut, ablation) = (spec.Name, check.Results, Path.Combine(spec.OutputDir, "report"), check.Ablation);
                order = spec.Datasets.Select(d => d.Name).ToList();
            }
            else if (Directory.Exists(Path.Combine(path, "results")))
            {
                var check = ResultCheck.Of(new LocalResultStore(path), null);
                if (check.Edited.Count > 0) throw new ReportException($"{path}: {check.DescribeEdited()}");
                (name, results, defaultOut, ablation) = (Path.GetFileName(Path.GetFullPath(path)), check.Results, Path.Combine(path, "report"), check.Ablation);
            }
            else if (Directory.Exists(path))
            {
                var loaded = MlrunsResults.Read(path, parse.GetValue(experiment));
                if (loaded.Superseded > 0)
                    Console.Error.WriteLine($"note: {loaded.Superseded} older finished run(s) of the same cells ignored (the newest run of each cell counts)");
                (name, results, defaultOut, ablation) = (loaded.ExperimentName, loaded.Results, Path.GetFullPath($"report-{loaded.ExperimentName}"), loaded.Ablation);
            }
            else throw new FileNotFoundException($"{path}: no such experiment file or folder");
            if (results.Count == 0) throw new ReportException($"{path}: no finished cells yet (run the experiment first: {PeftCommand.Name} run <experiment>)");

            ExperimentReport.Write(name, results, parse.GetValue(output) ?? defaultOut, parse.GetValue(baseline), order, ablation);
            return 0;
        });
        return command;
    }
}
