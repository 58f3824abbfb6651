namespace Peft.Reporting;

/// <summary>Input a report cannot be made from (no cells, a duplicate cell, an unknown baseline, ...); the message names the item.</summary>
public sealed class ReportException(string message) : Exception(message);
