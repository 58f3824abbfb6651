namespace Peft.Host.Experiments;

/// <summary>What one <c>peft run</c> invocation did: cells run, skipped as already done, failed (cell key → error), and whether it was cancelled.</summary>
public sealed record RunSummary(int Ran, int Skipped, IReadOnlyDictionary<string, string> Failures, bool Cancelled, string? ParentRunId)
{
    public int ExitCode => Cancelled ? 130 : Failures.Count > 0 ? 1 : 0;
}
