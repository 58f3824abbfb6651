using Peft.Core.Tracking;
using Peft.Results;

namespace Peft.Host.Experiments;

/// <summary>
/// Keeps the two records of a finished cell in step: a local result that was deleted or edited is rebuilt from the
/// cell's FINISHED run (its metrics, params and tags hold everything a report reads), and a child run deleted from the
/// tracker is logged again from the local result (params, metrics, tags; tag <c>peft.recreated_from</c>; artifacts are
/// not recreated). What cannot be repaired is rerun by the runner.
/// </summary>
public sealed class CellRepair(ExperimentSpec spec, LocalResultStore store, IExperimentTracker tracker, string experimentId, CellStates states)
{
    /// <summary>One line per repair or refusal.</summary>
    public Action<string> Warn { get; init; } = _ => { };

    /// <summary>Writes the cell's local result from its FINISHED run; false (saying why) when the tracker holds no complete one.</summary>
    public bool RestoreResult(ExperimentCell cell)
    {
        var runs = states.Runs(cell);
        if (runs is null) return false;
        var stale = store.TryReadResult(cell.Key);
        var finished = runs.Where(r => r.Status == RunStatus.Finished).ToList();
        if (finished.Count == 0) return false;
        // The run the edited file names first, then runs whose values their own checksum confirms.
        var ordered = finished.OrderByDescending(r => r.RunId == stale?.RunId).ThenByDescending(r => r.Tags.ContainsKey(TrackingNames.ResultHashTag));
        string? why = null;
        foreach (var run in ordered)
        {
            var result = FromRun(cell, run, out why);
            if (result is null) continue;
            var hash = CellResultHash.Of(result);
            if (run.Tags.TryGetValue(TrackingNames.ResultHashTag, out var logged) && logged != hash)
            {
                why = $"its values do not match its tag {TrackingNames.ResultHashTag}";
                continue;
            }
            store.WriteResult(new CellRecord(cell.Key, result, run.RunId, experimentId, tracker.Uri, run.Metrics.TryGetValue(TrackingNames.ValMeanPerClass, out var vm) ? vm : null,
                run.Metrics.GetValueOrDefault(TrackingNames.EvalSeconds), run.Tags.GetValueOrDefault(TrackingNames.SplitHashTag, ""),
                run.Tags.GetValueOrDefault(TrackingNames.FeatureCacheKeyTag, ""), DateTimeOffset.UtcNow) { ResultSha256 = hash });
            Warn($"cell {cell.Key}: restored {store.ResultPath(cell.Key)} from its FINISHED run {run.RunId} in {tracker.Uri}");
            return true;
        }
        Warn($"cell {cell.Key}: its FINISHED run in {tracker.Uri} cannot restore the result ({why}); rerunning the cell");
        return false;
    }

    /// <summary>The result a cell's run logged, or null with the first thing it lacks.</summary>
    static CellResult? FromRun(ExperimentCell cell, TrackedRun run, out string? missing)
    {
        missing = new[] { TrackingNames.TestTop1, TrackingNames.TestMeanPerClass, TrackingNames.FitSeconds, TrackingNames.TrainableParameters }
            .Where(k => !run.Metrics.ContainsKey(k)).Select(k => $"metric {k}").FirstOrDefault();
        if (missing is not null) return null;
        var options = run.Params.Where(p => p.Key.StartsWith(TrackingNames.MethodOptionPrefix, StringComparison.Ordinal))
            .OrderBy(p => p.Key, StringComparer.Ordinal)
            .ToDictionary(p => p.Key[TrackingNames.MethodOptionPrefix.Length..], p => p.Value);
        return new CellResult(cell.Dataset, cell.Shots, cell.Seed, cell.Method, run.Metrics[TrackingNames.TestTop1], run.Metrics[TrackingNames.TestMeanPerClass],
            run.Metrics.TryGetValue(TrackingNames.ValTop1, out var val) ? val : null, run.Metrics[TrackingNames.FitSeconds],
            (long)run.Metrics[TrackingNames.TrainableParameters], run.Metrics.GetValueOrDefault(TrackingNames.PeakMemoryMb, double.NaN), options)
        { Oracle = run.Tags.GetValueOrDefault(ExperimentProtocol.OracleTag) == "true" }
            .WithRecordedCost(key => run.Metrics.TryGetValue(key, out var v) ? v : null).WithShiftFrom(run.Metrics)
            .WithUnseenClassesFrom(run.Metrics, run.Params.GetValueOrDefault(ExperimentClasses.Param) == ExperimentClasses.BaseToNew,
                run.Tags.GetValueOrDefault(ExperimentClasses.NotApplicableTag));
    }

    /// <summary>
    /// Logs again the runs of <paramref name="doneCells"/> that the tracker lost (deleted by hand, an mlruns folder
    /// restored from an old copy) as children of <paramref name="parentId"/>, and points their local results at the new
    /// runs. Nothing is done when the tracker's answer cannot be trusted to be complete (it does not list the parent).
    /// </summary>
    /// <summary>
    /// Results written while the MLflow server was unreachable hold the outbox's local ids (<c>local-…</c>). Once the
    /// outbox delivered them (later in the same run, or by <c>peft tracking sync</c>), the server's run carries that
    /// id in its <c>peft.client_run_id</c> tag: the results are rewritten with the server's run and experiment ids, so
    /// everything that compares run ids (crash repair, the missing-run check) sees the server's. Returns how many.
    /// </summary>
    public int MapOfflineIds(IEnumerable<ExperimentCell> cells)
    {
        var offline = cells.Select(c => store.TryReadResult(c.Key))
            .Where(r => r?.RunId?.StartsWith(OfflineIdPrefix, StringComparison.Ordinal) == true).Select(r => r!).ToList();
        if (offline.Count == 0 || experimentId.StartsWith(OfflineIdPrefix, StringComparison.Ordinal)) return 0;
        IReadOnlyList<TrackedRun> all;
        try { all = tracker.FindRuns(experimentId, TrackingNames.ExperimentTag, spec.Name); }
        catch (TrackingException) { return 0; } // still unreachable: the next run maps them
        var byClientId = new Dictionary<string, TrackedRun>(StringComparer.Ordinal);
        foreach (var run in all)
            if (run.Tags.TryGetValue(Peft.Tracking.Rest.RestTracker.ClientRunIdTag, out var clientId)) byClientId.TryAdd(clientId, run);
        int mapped = 0;
        foreach (var record in offline)
        {
            if (!byClientId.TryGetValue(record.RunId!, out var run)) continue;
            store.WriteResult(record with { RunId = run.RunId, ExperimentId = experimentId });
            mapped++;
        }
        return mapped;
    }

    /// <summary>The prefix of the ids an outbox hands out while the server is unreachable.</summary>
    public const string OfflineIdPrefix = "local-";

    /// <summary>
    /// Whether some done cell's run seems missing from the tracker. A search that lags can only make runs look missing,
    /// never hide a missing one, so false means there is nothing to recreate (and no parent run is needed for it).
    /// </summary>
    public bool MayHaveMissingRuns(IEnumerable<ExperimentCell> doneCells)
    {
        IReadOnlyList<TrackedRun> all;
        try { all = tracker.FindRuns(experimentId, TrackingNames.ExperimentTag, spec.Name); }
        catch (TrackingException) { return true; } // RecreateMissingRuns says why
        var (ids, finishedCells) = Index(all);
        return doneCells.Any(cell => Missing(cell, ids, finishedCells) is not null);
    }

    static (HashSet<string> Ids, HashSet<string> FinishedCells) Index(IReadOnlyList<TrackedRun> all) =>
        (all.Select(r => r.RunId).ToHashSet(StringComparer.Ordinal),
         all.Where(r => r.Status == RunStatus.Finished && r.Tags.ContainsKey(TrackingNames.CellTag))
            .Select(r => r.Tags[TrackingNames.CellTag]).ToHashSet(StringComparer.Ordinal));

    /// <summary>The cell's result when the tracker lacks its run (and it is this tracker's to repair), else null.</summary>
    CellRecord? Missing(ExperimentCell cell, HashSet<string> ids, HashSet<string> finishedCells)
    {
        var record = store.TryReadResult(cell.Key);
        if (record is null || !record.IsIntact || finishedCells.Contains(cell.Key)) return null;
        if (record.RunId is not null && ids.Contains(record.RunId)) return null;
        return record.TrackingUri == tracker.Uri ? record : null; // logged to another tracker: not this one's to repair
    }

    public int RecreateMissingRuns(IEnumerable<ExperimentCell> doneCells, string parentId, string invocation, string shard)
    {
        IReadOnlyList<TrackedRun> all;
        try { all = tracker.FindRuns(experimentId, TrackingNames.ExperimentTag, spec.Name); }
        catch (TrackingException e)
        {
            Warn($"warning: could not check that the tracker still has every finished cell's run ({e.Message})");
            return 0;
        }
        if (!all.Any(r => r.RunId == parentId)) return 0; // an outbox answering offline, or a search that lags
        var (ids, finishedCells) = Index(all);
        int recreated = 0;
        foreach (var cell in doneCells)
        {
            if (Missing(cell, ids, finishedCells) is not { } record) continue;
            long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            var r = record.Result;
            var runId = tracker.CreateRun(experimentId, cell.RunName, now, new Dictionary<string, string>
            {
                [TrackingNames.ParentRunId] = parentId, [TrackingNames.CellTag] = cell.Key, [TrackingNames.RoleTag] = "cell",
                [TrackingNames.ExperimentTag] = spec.Name, [TrackingNames.InvocationTag] = invocation, [TrackingNames.ShardTag] = shard,
                [TrackingNames.SplitHashTag] = record.SplitSha256, [TrackingNames.FeatureCacheKeyTag] = record.FeatureCacheKey,
                [TrackingNames.CodeVersionTag] = CodeVersion.Current, [TrackingNames.ResultHashTag] = CellResultHash.Of(r),
                [TrackingNames.RecreatedFromTag] = $"{store.ResultPath(cell.Key)} (run {record.RunId ?? "?"} was missing)",
            });
            var metrics = new List<MetricPoint>
            {
                new(TrackingNames.TestTop1, r.TestTop1, now), new(TrackingNames.TestMeanPerClass, r.TestMeanPerClass, now),
                new(TrackingNames.FitSeconds, r.FitSeconds, now), new(TrackingNames.EvalSeconds, record.EvalSeconds, now),
                new(TrackingNames.TrainableParameters, r.TrainableParameters, now), new(TrackingNames.PeakMemoryMb, r.PeakMemoryMb, now),
            };
            if (r.ValTop1 is double v) metrics.Add(new(TrackingNames.ValTop1, v, now));
            metrics.AddRange(r.RecordedCostMetrics().Select(m => new MetricPoint(m.Name, m.Value, now)));
            if (record.ValMeanPerClass is double vm) metrics.Add(new(TrackingNames.ValMeanPerClass, vm, now));
            metrics.AddRange(r.ShiftMetrics().Concat(r.UnseenClassMetrics()).Select(m => new MetricPoint(m.Name, m.Value, now)));
            var tags = new Dictionary<string, string> { [ExperimentProtocol.ProtocolTag] = spec.Protocol };
            if (r.Oracle) tags[ExperimentProtocol.OracleTag] = "true";
            if (r.NotApplicable() is { Count: > 0 } na) tags[ExperimentClasses.NotApplicableTag] = string.Join(",", na);
            tracker.LogBatch(runId, metrics, CellParams.Of(spec, cell, r.Options), tags);
            tracker.EndRun(runId, RunStatus.Finished, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            store.WriteResult(record with { RunId = runId, ExperimentId = experimentId, FinishedUtc = record.FinishedUtc });
            Warn($"cell {cell.Key}: its run {record.RunId ?? "?"} is missing from {tracker.Uri}; logged again as run {runId} from {store.ResultPath(cell.Key)}");
            recreated++;
        }
        return recreated;
    }
}
