namespace Peft.Reporting;

/// <summary>Absolute paths of what <see cref="ReportWriter.Write"/> wrote.</summary>
public sealed record ReportFiles(string Directory, string Markdown, string Html, string ResultsCsv, IReadOnlyList<string> Plots);
