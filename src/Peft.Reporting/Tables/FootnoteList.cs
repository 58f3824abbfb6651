namespace Peft.Reporting.Tables;

/// <summary>Numbers distinct footnote texts in order of first use, so a note shared by many cells is listed once.</summary>
sealed class FootnoteList
{
    readonly List<string> _notes = [];

    public IReadOnlyList<string> Notes => _notes;

    /// <summary>" [n]" for the note (added if new), or "" for none.</summary>
    public string Marker(string? note)
    {
        if (note is null) return "";
        int index = _notes.IndexOf(note);
        if (index < 0) { _notes.Add(note); index = _notes.Count - 1; }
        return $" [{index + 1}]";
    }
}
