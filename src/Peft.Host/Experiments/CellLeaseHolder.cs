namespace Peft.Host.Experiments;

/// <summary>
/// Who holds a cell's lease (<c>&lt;output&gt;/leases/…/&lt;method&gt;.json</c>, beside the lock file): the process as
/// <see cref="ProcessIdentity"/> names it, its pid and host, and since when. Written after the lock is taken and
/// removed before it is released; one left behind by a killed process names a process that is gone.
/// </summary>
public sealed record CellLeaseHolder(string Cell, string Process, int ProcessId, string Host, DateTimeOffset SinceUtc)
{
    /// <summary>True unless the holder is a process of this machine that no longer runs (another machine's cannot be checked).</summary>
    public bool MayBeAlive => !ProcessIdentity.IsGone(Process);

    public override string ToString() => $"pid {ProcessId}, host {Host}";
}
