using Peft.Results;
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
    /// <summary>2: with <see cref="ResultSha256"/> (version 1 files have none and are taken as they are).</summary>
    public const int FormatVersion = 2;
    public string Format { get; init; } = FormatName;
    public int Version { get; init; } = FormatVersion;
    /// <summary>Every grid point's validation and test accuracy when the experiment asked for the ablation view (else null).</summary>
    public IReadOnlyList<AblationPoint>? Ablation { get; init; }
    /// <summary><see cref="CellResultHash"/> of <see cref="Result"/> when it was written.</summary>
    public string? ResultSha256 { get; init; }

    /// <summary>False when the values no longer match the checksum written with them (edited by hand, damaged).</summary>
    public bool IsIntact => ResultSha256 is null || ResultSha256 == CellResultHash.Of(Result);
}
