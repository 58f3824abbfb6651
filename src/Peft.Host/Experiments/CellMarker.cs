namespace Peft.Host.Experiments;

/// <summary>
/// A cell that started and has no result: <c>&lt;output&gt;/state/…/&lt;method&gt;.json</c>. Status <c>running</c> means
/// the process that wrote it is running it or died (crash, kill); <c>failed</c> and <c>killed</c> mean its run was
/// already ended that way. The run id lets a rerun end a stale run even when the tracker cannot search.
/// </summary>
public sealed record CellMarker(string Cell, string? RunId, string Status, int ProcessId, string Host, DateTimeOffset StartedUtc, string? Error = null)
{
    public const string Running = "running";
    public const string Failed = "failed";
    public const string Killed = "killed";
}
