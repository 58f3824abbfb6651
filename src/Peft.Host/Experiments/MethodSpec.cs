using Peft.Core;

namespace Peft.Host.Experiments;

/// <summary>
/// A method of an experiment with its hyperparameter points (one point when no option is a grid). <see cref="Points"/>
/// are the options as the experiment file writes them; <see cref="ByDataset"/> holds, per dataset name, the points
/// with the method's official per-dataset presets (and, under the as-published protocol, its official selection
/// rules) filled in underneath — what the cells of that dataset run with.
/// </summary>
public sealed record MethodSpec(string Name, MethodDescriptor Descriptor, IReadOnlyList<GridPoint> Points)
{
    public bool IsGrid => Points.Count > 1;

    public IReadOnlyDictionary<string, DatasetMethodPoints> ByDataset { get; init; } = new Dictionary<string, DatasetMethodPoints>();

    /// <summary>The points cells of dataset <paramref name="dataset"/> (its name in the experiment) run.</summary>
    public IReadOnlyList<GridPoint> PointsFor(string dataset) => ByDataset.TryGetValue(dataset, out var d) ? d.Points : Points;

    /// <summary>Which presets filled which options for <paramref name="dataset"/>, as logged (<c>none</c> when none applied).</summary>
    public string PresetsFor(string dataset) => ByDataset.TryGetValue(dataset, out var d) ? d.Description : "none";

    /// <summary>This method with the points of <paramref name="dataset"/> (what <see cref="GridFit"/> runs for its cells).</summary>
    public MethodSpec ForDataset(string dataset) => this with { Points = PointsFor(dataset) };
}
