using System.CommandLine;
using System.Runtime.InteropServices;
using Peft.Clip.Native;
using Peft.Host.Experiments;
using Peft.Reporting;
using Peft.Tracking;

namespace Peft.Cli.Commands;

/// <summary>
/// <c>peft run</c>: runs an experiment's cells (or one shard's share), skipping finished ones. Ctrl-C (or SIGTERM, as
/// Kubernetes and Slurm send on preemption) stops after ending the current cell's run and the parent KILLED: exit 130.
/// Failed cells are listed at the end: exit 1.
/// </summary>
public static class RunCommand
{
    public static Command Create()
    {
        var args = new ExperimentArguments();
        var command = new Command("run", "Run an experiment: every cell (dataset × shots × seed × method) not finished yet, logged to MLflow and to <output>/results.");
        args.AddTo(command);
        var noReport = new Option<bool>("--no-report") { Description = "Do not write the report (<output>/report) and print the table at the end" };
        command.Add(noReport);
        command.SetAction(parse =>
        {
            var (spec, shard) = args.Read(parse);
            int threads = args.ApplyThreads(parse);
            Console.Error.WriteLine($"threads: {threads} (of {Environment.ProcessorCount} CPUs available; --threads or {ThreadBudget.EnvironmentVariable} to change)");
            using var cancel = new CancellationTokenSource();
            void Stop()
            {
                if (cancel.IsCancellationRequested) return;
                Console.Error.WriteLine("stopping: ending the current cell's run as KILLED (rerun the same command to resume)");
                cancel.Cancel();
            }
            ConsoleCancelEventHandler onCtrlC = (_, e) =>
            {
                // The first Ctrl-C stops cleanly; a second one ends the process at once.
                if (cancel.IsCancellationRequested) return;
                e.Cancel = true;
                Stop();
            };
            Console.CancelKeyPress += onCtrlC;
            using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => { context.Cancel = true; Stop(); });
            try
            {
                // A server gets an outbox: records that fail while it is down are delivered later.
                using var tracker = TrackingTargets.Create(spec.Tracking.Uri);
                var summary = new ExperimentRunner(spec, tracker) { Shard = shard, Costs = CellCostLog.Default() }.Run(cancel.Token);
                Console.Error.WriteLine();
                Console.Error.WriteLine($"{spec.Name}{(shard.IsAll ? "" : $" shard {shard}")}: {summary.Ran} cells run, {summary.Skipped} already done, {summary.Failures.Count} failed" +
                                        (summary.Busy.Count > 0 ? $", {summary.Busy.Count} being run by another invocation" : "") +
                                        (summary.Cancelled ? ", interrupted" : ""));
                foreach (var (cell, error) in summary.Failures) Console.Error.WriteLine($"  FAILED {cell}: {error}");
                foreach (var holder in summary.Busy.Values.Distinct()) Console.Error.WriteLine($"  left to the invocation with {holder}; its end reports the whole grid");
                Console.Error.WriteLine($"results:  {spec.ResultsDir}");
                Console.Error.WriteLine($"tracking: {tracker.Uri} (experiment '{spec.Tracking.ExperimentName}'" +
                                        (summary.ParentRunId is { } id ? $", parent run {id})" : ")"));
                var check = ResultCheck.Of(new LocalResultStore(spec.OutputDir), new ExperimentPlan(spec).Cells);
                var results = check.Results;
                if (!parse.GetValue(noReport) && shard.IsAll && !summary.Cancelled && results.Count > 0)
                {
                    Console.Error.WriteLine();
                    if (check.Missing.Count > 0) Console.Error.WriteLine($"WARNING: {check.DescribeMissing()}; the report below covers only the {results.Count} cells with results");
                    var (files, reportSummary) = ExperimentReport.Write(spec.Name, results, Path.Combine(spec.OutputDir, "report"), null, spec.Datasets.Select(d => d.Name).ToList(), check.Ablation);
                    // The parent run of this invocation carries the report and the averaged accuracies.
                    if (summary.ParentRunId is { } parent) ParentRunReport.Log(tracker, parent, reportSummary, files);
                }
                else Console.Error.WriteLine($"report:   {args.CommandLine("report", parse.GetValue(args.File)!, parse)}");
                if (summary.Cancelled) Console.Error.WriteLine("interrupted: run the same command again to resume");
                return summary.ExitCode;
            }
            finally
            {
                Console.CancelKeyPress -= onCtrlC;
            }
        });
        return command;
    }
}
