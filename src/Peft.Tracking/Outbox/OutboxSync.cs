using Peft.Core.Tracking;

namespace Peft.Tracking.Outbox;

/// <summary>
/// Delivers what an outbox folder still holds (<c>peft tracking sync</c>): every journal not held by a running
/// process, each to the tracking URI recorded in it, in order, and removes the journals fully delivered.
/// </summary>
public static class OutboxSync
{
    /// <param name="trackerFor">Makes the delivering tracker for a journal's URI (one per URI, disposed here).</param>
    /// <param name="onlyUri">Deliver only the journals recorded for this URI.</param>
    public static OutboxSyncResult Run(string outboxDirectory, Func<string, IExperimentTracker> trackerFor, string? onlyUri = null)
    {
        if (!Directory.Exists(outboxDirectory)) return new OutboxSyncResult(0, 0, 0, []);
        var otherTargets = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var trackers = new Dictionary<string, IExperimentTracker>(StringComparer.Ordinal);
        int delivered = 0, sent = 0, inUse = 0;
        var errors = new List<string>();
        try
        {
            foreach (var path in Directory.EnumerateFiles(outboxDirectory, "*" + OutboxJournal.Extension).Order(StringComparer.Ordinal))
            {
                OutboxJournal? journal;
                try
                {
                    journal = OutboxJournal.TryOpen(path);
                }
                catch (InvalidDataException e)
                {
                    errors.Add(e.Message);
                    continue;
                }
                if (journal is null) { inUse++; continue; }
                using (journal)
                {
                    if (onlyUri is not null && !SameUri(journal.Uri, onlyUri))
                    {
                        // Not sent now, but reported: "0 left" must not hide what waits for another server.
                        if (journal.Pending > 0) otherTargets[journal.Uri] = otherTargets.GetValueOrDefault(journal.Uri) + journal.Pending;
                        continue;
                    }
                    try
                    {
                        if (!trackers.TryGetValue(journal.Uri, out var tracker)) trackers[journal.Uri] = tracker = trackerFor(journal.Uri);
                        sent += JournalDelivery.Deliver(journal, tracker);
                        journal.Delete();
                        delivered++;
                    }
                    catch (TrackingException e)
                    {
                        errors.Add($"{Path.GetFileName(path)} ({journal.Pending} records left for {journal.Uri}): {e.Message}");
                    }
                }
            }
        }
        finally
        {
            foreach (var tracker in trackers.Values) tracker.Dispose();
        }
        return new OutboxSyncResult(delivered, sent, inUse, errors) { WaitingForOtherTargets = otherTargets };
    }

    private static bool SameUri(string a, string b) => string.Equals(a.TrimEnd('/'), b.TrimEnd('/'), StringComparison.OrdinalIgnoreCase);
}
