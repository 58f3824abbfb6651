namespace Peft.Tracking.Outbox;

/// <summary>What <see cref="OutboxSync.Run"/> did: journals fully delivered and removed, entries sent, journals
/// skipped because a running process holds them, journals left (with the error that stopped each).</summary>
public sealed record OutboxSyncResult(int JournalsDelivered, int EntriesSent, int JournalsInUse, IReadOnlyList<string> Errors)
{
    public int JournalsLeft => Errors.Count;

    /// <summary>Undelivered records of journals for other servers than the one asked for (<c>--tracking-uri</c>), by URI.</summary>
    public IReadOnlyDictionary<string, int> WaitingForOtherTargets { get; init; } = new Dictionary<string, int>();
}
