using Peft.Results;
namespace Peft.Host.Experiments;

/// <summary>
/// The local results a report may use, checked: results whose values no longer match their checksum
/// (<see cref="Edited"/>, by file) and, against the experiment's plan, the planned cells without a result
/// (<see cref="Missing"/>, by cell key), so a report never averages fewer cells than planned without saying so.
/// </summary>
public sealed record ResultCheck(IReadOnlyList<CellResult> Results, IReadOnlyList<string> Missing, IReadOnlyList<string> Edited, int Planned)
{
    /// <summary>Reads <paramref name="store"/>; <paramref name="planned"/> (null: not known) are the cells it should hold.</summary>
    public static ResultCheck Of(LocalResultStore store, IReadOnlyList<ExperimentCell>? planned)
    {
        var records = store.ReadAllRecords();
        var edited = records.Where(r => !r.IsIntact).Select(r => store.ResultPath(r.Cell)).ToList();
        var intact = records.Where(r => r.IsIntact).ToList();
        var have = intact.Select(r => r.Cell).ToHashSet(StringComparer.Ordinal);
        var missing = planned?.Where(c => !have.Contains(c.Key)).Select(c => c.Key).ToList() ?? [];
        return new ResultCheck(intact.Select(r => r.Result).ToList(), missing, edited, planned?.Count ?? records.Count)
        {
            Ablation = intact.SelectMany(r => r.Ablation ?? []).ToList(),
        };
    }

    /// <summary>The grid points of the cells whose methods had the ablation view (empty otherwise).</summary>
    public IReadOnlyList<AblationPoint> Ablation { get; init; } = [];

    /// <summary>"3 of 24 planned cells have no result: a/1/1/x, …" with at most <paramref name="listed"/> keys.</summary>
    public string DescribeMissing(int listed = 10) =>
        $"{Missing.Count} of {Planned} planned cells have no result" +
        $" (datasets {string.Join(", ", Missing.Select(k => k.Split('/')[0]).Distinct())}): {string.Join(", ", Missing.Take(listed))}" +
        (Missing.Count > listed ? $", … ({Missing.Count - listed} more)" : "");

    public string DescribeEdited() =>
        $"{Edited.Count} result file(s) do not match their checksum (edited by hand or damaged): {string.Join(", ", Edited.Take(10))}" +
        (Edited.Count > 10 ? $", … ({Edited.Count - 10} more)" : "");
}
