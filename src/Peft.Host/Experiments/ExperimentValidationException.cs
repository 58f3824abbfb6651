namespace Peft.Host.Experiments;

/// <summary>
/// An experiment that cannot run: every problem found, each starting with its configuration path
/// (<c>methods:coop:nCtx: must be ≥ 1, got 0</c>), reported together before any work starts.
/// </summary>
public sealed class ExperimentValidationException(string source, IReadOnlyList<string> problems)
    : ArgumentException($"{source}: {problems.Count} problem{(problems.Count == 1 ? "" : "s")}:{Environment.NewLine}  "
                        + string.Join(Environment.NewLine + "  ", problems))
{
    public string FilePath { get; } = source;
    public IReadOnlyList<string> Problems { get; } = problems;
}
