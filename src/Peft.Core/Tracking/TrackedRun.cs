namespace Peft.Core.Tracking;

/// <summary>
/// A run as the tracker reports it back (used to skip cells that already finished). <see cref="Params"/> and
/// <see cref="Metrics"/> (each metric's latest value) are filled where the tracker's search returns them (an mlruns
/// folder, an MLflow server), so a lost local result can be rebuilt from the run.
/// </summary>
public sealed record TrackedRun(string RunId, string RunName, RunStatus Status, IReadOnlyDictionary<string, string> Tags)
{
    public IReadOnlyDictionary<string, string> Params { get; init; } = new Dictionary<string, string>();
    public IReadOnlyDictionary<string, double> Metrics { get; init; } = new Dictionary<string, double>();
}
