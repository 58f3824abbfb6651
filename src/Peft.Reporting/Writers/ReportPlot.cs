namespace Peft.Reporting.Writers;

/// <summary>A rendered plot: its title, its path relative to the report folder (forward slashes) and the PNG bytes.</summary>
public sealed record ReportPlot(string Title, string RelativePath, byte[] Png, string? Dataset)
{
    /// <summary>The protocol section the plot belongs to (<see cref="ShiftSection"/>, …), or null for the accuracy plots.</summary>
    public string? Section { get; init; }

    public const string ShiftSection = "shift", BaseToNewSection = "base-to-new", TransferSection = "transfer";
}
