namespace Peft.Host.Experiments;

/// <summary>What one <c>peft run</c> invocation did: cells run, skipped as already done, failed (cell key → error), and whether it was cancelled.</summary>
public sealed record RunSummary(int Ran, int Skipped, IReadOnlyDictionary<string, string> Failures, bool Cancelled, string? ParentRunId)
{
    /// <summary>Cells left to another invocation that held their lease (cell key → its pid and host).</summary>
    public IReadOnlyDictionary<string, string> Busy { get; init; } = new Dictionary<string, string>();

    public int ExitCode => Cancelled ? 130 : Failures.Count > 0 ? 1 : 0;
}
