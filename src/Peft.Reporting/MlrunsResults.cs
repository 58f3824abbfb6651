using System.Globalization;
using Peft.Core.Tracking;
using Peft.Results;
using Peft.Tracking.Mlruns;

namespace Peft.Reporting;

/// <summary>
/// The cells of an experiment read back from an <c>mlruns</c> folder: its FINISHED child runs (tag
/// <c>peft.role = cell</c>), mapped through <see cref="TrackingNames"/>. When a cell finished more than once (the same
/// experiment run from two output folders), the newest run counts and the others are reported as superseded.
/// </summary>
public static class MlrunsResults
{
    public sealed record Loaded(string ExperimentName, IReadOnlyList<CellResult> Results, int Superseded)
    {
        /// <summary>The ablation view's grid points (nested runs tagged <c>peft.role = ablation-point</c>) of the counted cell runs.</summary>
        public IReadOnlyList<AblationPoint> Ablation { get; init; } = [];
    }

    public static Loaded Read(string mlruns, string? experimentName)
    {
        var reader = new MlrunsReader(mlruns);
        // Every run folder is read once: the chosen experiment's runs are kept from the scan that finds it.
        List<(MlrunsExperiment Experiment, IReadOnlyList<MlrunsRun> Runs)> WithCells() => reader.Experiments()
            .Select(e => (e, reader.Runs(e.ExperimentId))).Where(x => x.Item2.Any(IsCell)).ToList();
        MlrunsExperiment experiment;
        IReadOnlyList<MlrunsRun> runs;
        if (experimentName is not null)
        {
            experiment = reader.FindExperiment(experimentName)
                ?? throw new ReportException($"{reader.Root}: no experiment named '{experimentName}'; experiments with cells: {Names(WithCells().Select(x => x.Experiment))}");
            runs = reader.Runs(experiment.ExperimentId);
        }
        else
        {
            var candidates = WithCells();
            if (candidates.Count != 1)
                throw new ReportException(candidates.Count == 0
                    ? $"{reader.Root}: no experiment with finished cells (runs tagged {TrackingNames.RoleTag}=cell)"
                    : $"{reader.Root}: several experiments ({Names(candidates.Select(x => x.Experiment))}); pick one with --experiment NAME");
            (experiment, runs) = candidates[0];
        }

        var newest = runs.Where(r => IsCell(r) && r.Status == RunStatus.Finished)
            .GroupBy(r => r.Tags.GetValueOrDefault(TrackingNames.CellTag) ?? r.RunId)
            .Select(g => (Run: g.OrderByDescending(r => r.EndTime ?? 0).ThenBy(r => r.RunId, StringComparer.Ordinal).First(), Count: g.Count()))
            .ToList();
        var results = newest.Select(x => ToResult(x.Run))
            .OrderBy(r => r.Dataset, StringComparer.Ordinal).ThenBy(r => r.Shots).ThenBy(r => r.Seed).ThenBy(r => r.Method, StringComparer.Ordinal)
            .ToList();
        var counted = newest.Select(x => x.Run.RunId).ToHashSet(StringComparer.Ordinal);
        var ablation = runs.Where(r => r.IsActive && r.Status == RunStatus.Finished && r.Tags.GetValueOrDefault(TrackingNames.RoleTag) == TrackingNames.AblationRole
                                       && counted.Contains(r.Tags.GetValueOrDefault(TrackingNames.ParentRunId) ?? ""))
            .Select(ToAblationPoint).OrderBy(p => p.Dataset, StringComparer.Ordinal).ThenBy(p => p.Shots).ThenBy(p => p.Seed)
            .ThenBy(p => p.Method, StringComparer.Ordinal).ThenBy(p => p.Index).ToList();
        return new Loaded(experiment.Name, results, newest.Sum(x => x.Count - 1)) { Ablation = ablation };
    }

    static bool IsCell(MlrunsRun run) => run.IsActive && run.Tags.GetValueOrDefault(TrackingNames.RoleTag) == "cell";

    static string Names(IEnumerable<MlrunsExperiment> experiments) =>
        string.Join(", ", experiments.Select(e => $"'{e.Name}'").DefaultIfEmpty("none"));

    static AblationPoint ToAblationPoint(MlrunsRun run)
    {
        var r = ToResultFields(run);
        var values = run.Params.Where(p => p.Key.StartsWith(TrackingNames.MethodOptionPrefix, StringComparison.Ordinal))
            .ToDictionary(p => p.Key[TrackingNames.MethodOptionPrefix.Length..], p => p.Value);
        return new AblationPoint(r.Param(TrackingNames.Dataset), r.Int(TrackingNames.Shots), r.Int(TrackingNames.Seed), r.Param(TrackingNames.Method),
            r.Int(TrackingNames.AblationPointParam), values, r.Metric(TrackingNames.ValTop1), r.Metric(TrackingNames.TestTop1),
            r.Metric(TrackingNames.FitSeconds), run.Tags.GetValueOrDefault(TrackingNames.AblationSelectedTag) == "true");
    }

    sealed record Fields(Func<string, string> Param, Func<string, double> Metric, Func<string, int> Int);

    static Fields ToResultFields(MlrunsRun run)
    {
        string Param(string key) => run.Params.TryGetValue(key, out var v) ? v
            : throw new ReportException($"{run.Directory}: run '{run.RunName}' has no param '{key}'");
        double Metric(string key) => run.LatestMetrics.TryGetValue(key, out var m) ? m.Value
            : throw new ReportException($"{run.Directory}: run '{run.RunName}' has no metric '{key}'");
        int Int(string key) => int.TryParse(Param(key), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v
            : throw new ReportException($"{run.Directory}: param '{key}' is not an integer: '{Param(key)}'");
        return new Fields(Param, Metric, Int);
    }

    static CellResult ToResult(MlrunsRun run)
    {
        string Param(string key) => run.Params.TryGetValue(key, out var v) ? v
            : throw new ReportException($"{run.Directory}: run '{run.RunName}' has no param '{key}'");
        double Metric(string key) => run.LatestMetrics.TryGetValue(key, out var m) ? m.Value
            : throw new ReportException($"{run.Directory}: run '{run.RunName}' has no metric '{key}'");
        double? Optional(string key) => run.LatestMetrics.TryGetValue(key, out var m) ? m.Value : null;
        int Int(string key) => int.TryParse(Param(key), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v
            : throw new ReportException($"{run.Directory}: param '{key}' is not an integer: '{Param(key)}'");

        var options = run.Params.Where(p => p.Key.StartsWith(TrackingNames.MethodOptionPrefix, StringComparison.Ordinal))
            .OrderBy(p => p.Key, StringComparer.Ordinal)
            .ToDictionary(p => p.Key[TrackingNames.MethodOptionPrefix.Length..], p => p.Value);
        return new CellResult(Param(TrackingNames.Dataset), Int(TrackingNames.Shots), Int(TrackingNames.Seed), Param(TrackingNames.Method),
            Metric(TrackingNames.TestTop1), Metric(TrackingNames.TestMeanPerClass), Optional(TrackingNames.ValTop1),
            Metric(TrackingNames.FitSeconds), (long)Metric(TrackingNames.TrainableParameters), Optional(TrackingNames.PeakMemoryMb) ?? double.NaN,
            options)
        { Oracle = run.Tags.GetValueOrDefault(ExperimentProtocol.OracleTag) == "true" }.WithRecordedCost(Optional)
            .WithShiftFrom(run.LatestMetrics.Select(m => new KeyValuePair<string, double>(m.Key, m.Value.Value)))
            .WithUnseenClassesFrom(run.LatestMetrics.Select(m => new KeyValuePair<string, double>(m.Key, m.Value.Value)),
                run.Params.GetValueOrDefault(ExperimentClasses.Param) == ExperimentClasses.BaseToNew, run.Tags.GetValueOrDefault(ExperimentClasses.NotApplicableTag));
    }
}
