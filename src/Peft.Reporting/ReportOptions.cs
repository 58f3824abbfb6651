namespace Peft.Reporting;

/// <summary>What <see cref="ReportWriter"/> needs besides the cells: where to write, a title, the baseline.</summary>
public sealed record ReportOptions(string OutputDirectory)
{
    /// <summary>The method compared against when <see cref="BaselineMethod"/> is not set and the results have it.</summary>
    public const string DefaultBaseline = "zero-shot";

    /// <summary>Title of the report, usually the experiment name.</summary>
    public string Title { get; init; } = "Experiment report";

    /// <summary>Method every other method is compared with; null: <see cref="DefaultBaseline"/> if present, else the first method.</summary>
    public string? BaselineMethod { get; init; }
}
