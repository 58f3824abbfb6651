namespace Peft.Reporting.Tables;

/// <summary>One table cell: its text and whether it is the best value of its column (bold in Markdown/HTML, starred in the terminal).</summary>
public sealed record ReportCell(string Text, bool IsBest = false)
{
    public static implicit operator ReportCell(string text) => new(text);
}
