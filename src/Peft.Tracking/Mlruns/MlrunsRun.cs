using Peft.Core.Tracking;

namespace Peft.Tracking.Mlruns;

/// <summary>
/// One run of an mlruns folder: its <c>meta.yaml</c> info, params, tags and metrics. <see cref="LatestMetrics"/>
/// holds, per key, the point MLflow shows in its run table: the maximum by (step, timestamp, value).
/// </summary>
public sealed record MlrunsRun(
    string RunId,
    string ExperimentId,
    string RunName,
    RunStatus Status,
    long? StartTime,
    long? EndTime,
    string ArtifactUri,
    string LifecycleStage,
    string UserId,
    IReadOnlyDictionary<string, string> Params,
    IReadOnlyDictionary<string, string> Tags,
    IReadOnlyDictionary<string, MetricPoint> LatestMetrics,
    IReadOnlyDictionary<string, IReadOnlyList<MetricPoint>> MetricHistory,
    string Directory)
{
    public bool IsActive => LifecycleStage == "active";

    /// <summary>The local folder of the run's artifacts, or null when <see cref="ArtifactUri"/> is not a <c>file:</c> URI.</summary>
    public string? ArtifactDirectory => MlrunsPaths.LocalPathOfFileUri(ArtifactUri);
}
