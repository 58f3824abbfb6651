namespace Peft.Host.Reporting.Writers;

/// <summary>A rendered plot: its title, its path relative to the report folder (forward slashes) and the PNG bytes.</summary>
public sealed record ReportPlot(string Title, string RelativePath, byte[] Png, string? Dataset);
