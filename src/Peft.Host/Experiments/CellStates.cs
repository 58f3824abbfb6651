using Peft.Core.Tracking;
using Peft.Results;

namespace Peft.Host.Experiments;

/// <summary>
/// Decides where each cell stands from the local record and the tracker, and tidies up after crashes so that a cell
/// never ends up with two FINISHED runs: a local result whose run is still RUNNING (crash between writing the result
/// and ending the run) gets that run ended FINISHED; a cell about to be rerun gets its stale RUNNING runs ended KILLED.
/// When the tracker cannot be reached the local record decides, and the tracker is not asked again in this invocation.
/// </summary>
public sealed class CellStates(LocalResultStore store, IExperimentTracker? tracker, string? experimentId)
{
    bool _trackerDown = tracker is null || experimentId is null;

    /// <summary>Told once when the tracker fails and the local record decides from then on.</summary>
    public Action<string>? Warn { get; init; }
    /// <summary>When set, a cell whose lease a live process holds is <see cref="CellState.Running"/> (what <c>peft plan</c> shows).</summary>
    public CellLeases? Leases { get; init; }

    public CellState Of(ExperimentCell cell)
    {
        if (store.TryReadResult(cell.Key) is { } record) return record.IsIntact ? CellState.Done : CellState.Edited;
        if (Leases?.LiveHolder(cell.Key) is not null) return CellState.Running;
        var runs = Runs(cell);
        if (runs?.Any(r => r.Status == RunStatus.Finished) == true) return CellState.Done;
        var marker = store.TryReadMarker(cell.Key);
        if (marker?.Status == CellMarker.Failed) return CellState.Failed;
        if (marker is not null) return CellState.Interrupted;
        return runs?.Any(r => r.Status == RunStatus.Running) == true ? CellState.Interrupted : CellState.Pending;
    }

    /// <summary>For a finished cell: ends its own run FINISHED if a crash left it RUNNING, any other RUNNING run KILLED, and drops its marker.</summary>
    public void SettleFinished(ExperimentCell cell)
    {
        // The marker is deleted only after the run ended FINISHED: without one there is nothing to repair, and a
        // rerun of a finished grid asks the tracker nothing (a search per cell is slow on big mlruns folders).
        if (store.TryReadMarker(cell.Key) is null) return;
        var record = store.TryReadResult(cell.Key);
        foreach (var run in Runs(cell) ?? [])
            if (run.Status == RunStatus.Running)
                End(run.RunId, IsRecordedRun(run, record) ? RunStatus.Finished : RunStatus.Killed);
        store.DeleteMarker(cell.Key);
    }

    /// <summary>The run the local result names: by id, or by the outbox's local id it was created under (server down).</summary>
    static bool IsRecordedRun(TrackedRun run, CellRecord? record) =>
        record?.RunId is { } id && (run.RunId == id || run.Tags.GetValueOrDefault(Peft.Tracking.Rest.RestTracker.ClientRunIdTag) == id);

    /// <summary>Before a cell is (re)run: every RUNNING run of it is a leftover of a crash or kill and is ended KILLED.</summary>
    public void EndStaleRuns(ExperimentCell cell)
    {
        var marker = store.TryReadMarker(cell.Key);
        var runs = Runs(cell);
        if (runs is not null)
        {
            foreach (var run in runs.Where(r => r.Status == RunStatus.Running)) End(run.RunId, RunStatus.Killed);
        }
        else if (marker is { Status: CellMarker.Running, RunId: { } runId })
            End(runId, RunStatus.Killed); // the tracker cannot search now; its client may still deliver this later
    }

    /// <summary>The cell's runs in the tracker, or null when it cannot be asked.</summary>
    public IReadOnlyList<TrackedRun>? Runs(ExperimentCell cell)
    {
        if (_trackerDown) return null;
        try
        {
            return tracker!.FindRuns(experimentId!, TrackingNames.CellTag, cell.Key);
        }
        catch (TrackingException e)
        {
            TrackerFailed(e);
            return null;
        }
    }

    void End(string runId, RunStatus status)
    {
        if (tracker is null) return;
        try
        {
            tracker.EndRun(runId, status, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        }
        catch (TrackingException e)
        {
            TrackerFailed(e);
        }
    }

    void TrackerFailed(TrackingException e)
    {
        if (!_trackerDown) Warn?.Invoke($"tracking: {e.Message}; the local record ({store.ResultsDir}) decides which cells are done");
        _trackerDown = true;
    }
}
