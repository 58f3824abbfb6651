namespace Peft.Results;

/// <summary>
/// One hyperparameter point of a cell's grid with its validation and test accuracy (%), recorded only when the
/// experiment asks for the ablation view (<c>"ablation"</c>). It is a view of the sweep, never an input to selection:
/// the cell's result is still the point with the best validation accuracy, chosen before any test accuracy exists.
/// </summary>
public sealed record AblationPoint(
    string Dataset,
    int Shots,
    int Seed,
    string Method,
    int Index,
    IReadOnlyDictionary<string, string> Values,
    double ValTop1,
    double TestTop1,
    double FitSeconds,
    bool Selected)
{
    /// <summary>The key of the cell the point belongs to.</summary>
    public string CellKeyOf() => TrackingNames.CellKey(Dataset, Shots, Seed, Method);

    /// <summary>The point's axis values as one label, e.g. <c>alpha=0.2, reduction=4</c>.</summary>
    public string Label => string.Join(", ", Values.OrderBy(v => v.Key, StringComparer.Ordinal).Select(v => $"{v.Key}={v.Value}"));
}
