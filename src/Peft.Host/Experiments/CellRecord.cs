namespace Peft.Host.Experiments;

/// <summary>
/// A finished cell as the runner stores it in <c>&lt;output&gt;/results/&lt;dataset&gt;/&lt;shots&gt;/&lt;seed&gt;/&lt;method&gt;.json</c>:
/// the <see cref="CellResult"/> reports read, the run it was logged as, and what identifies its inputs.
/// </summary>
public sealed record CellRecord(
    string Cell,
    CellResult Result,
    string? RunId,
    string? ExperimentId,
    string? TrackingUri,
    double? ValMeanPerClass,
    double EvalSeconds,
    string SplitSha256,
    string FeatureCacheKey,
    DateTimeOffset FinishedUtc)
{
    public const string FormatName = "peft.cell-result";
    public const int FormatVersion = 1;
    public string Format { get; init; } = FormatName;
    public int Version { get; init; } = FormatVersion;
}
