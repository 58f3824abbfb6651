namespace Peft.Core.Tracking;

/// <summary>A run as the tracker reports it back (used to skip cells that already finished).</summary>
public sealed record TrackedRun(string RunId, string RunName, RunStatus Status, IReadOnlyDictionary<string, string> Tags);
