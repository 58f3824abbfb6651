namespace Peft.Results;

/// <summary>
/// The experiment's <c>protocol</c> setting. <see cref="FewShot"/> (default): methods see the few-shot train and
/// validation features only, and options that select on other data are rejected. <see cref="AsPublished"/>: each
/// method's official selection rules are applied (<c>Peft.Core.MethodDescriptor.AsPublished</c>) and methods get
/// <c>Peft.Core.AdaptationContext.Oracle</c> (full validation and test data); cells that read it are tagged
/// <see cref="OracleTag"/> and marked † in reports.
/// </summary>
public static class ExperimentProtocol
{
    public const string FewShot = "few-shot";
    public const string AsPublished = "as-published";
    public static readonly IReadOnlyList<string> Names = [FewShot, AsPublished];

    /// <summary>Tag of every run: the protocol.</summary>
    public const string ProtocolTag = "peft.protocol";
    /// <summary>Tag of a cell run whose method read test or full-validation data ("true").</summary>
    public const string OracleTag = "peft.oracle";
    /// <summary>What reports append to the method name of an oracle cell.</summary>
    public const string OracleMark = "†";
    /// <summary>The report footnote for <see cref="OracleMark"/>.</summary>
    public const string OracleNote =
        "† oracle (protocol as-published): hyperparameters or epochs were selected on the test set or the full validation " +
        "split, as the official code does; not comparable with few-shot results.";
}
