namespace Peft.Reporting.Tables;

/// <summary>
/// A table as every writer renders it (Markdown, HTML, terminal): a header, rows of the same width, and numbered
/// notes that cells refer to as "[n]". The first <see cref="TextColumns"/> columns are text (left-aligned), the
/// others numbers (right-aligned).
/// </summary>
public sealed record ReportTable(string Caption, IReadOnlyList<string> Header, IReadOnlyList<IReadOnlyList<ReportCell>> Rows,
    IReadOnlyList<string> Notes)
{
    public int TextColumns { get; init; } = 1;

    public ReportTable Validate()
    {
        for (int i = 0; i < Rows.Count; i++)
            if (Rows[i].Count != Header.Count)
                throw new InvalidOperationException($"Table '{Caption}': row {i} has {Rows[i].Count} cells, the header {Header.Count}.");
        return this;
    }
}
