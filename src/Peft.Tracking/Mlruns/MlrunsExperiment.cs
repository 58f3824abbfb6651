namespace Peft.Tracking.Mlruns;

/// <summary>An experiment of an mlruns folder as its <c>meta.yaml</c> and <c>tags/</c> describe it.</summary>
public sealed record MlrunsExperiment(
    string ExperimentId,
    string Name,
    string ArtifactLocation,
    string LifecycleStage,
    long? CreationTime,
    long? LastUpdateTime,
    IReadOnlyDictionary<string, string> Tags,
    string Directory)
{
    public bool IsActive => LifecycleStage == "active";
}
