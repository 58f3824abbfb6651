namespace Peft.Host.Experiments;

/// <summary>One dataset of an experiment: the name results use, the reader (a DatasetRegistry name) and its folder (absolute).</summary>
public sealed record DatasetSpec(string Name, string Type, string Root)
{
    /// <summary>
    /// Distribution-shift targets: datasets whose *test* split the classifiers fitted on this dataset are also evaluated
    /// on (ImageNet → -V2, -Sketch, -A, -R; synth_shapes → synth_shift). Their classes are mapped to this dataset's by
    /// name; they get no cells, splits or training of their own.
    /// </summary>
    public IReadOnlyList<DatasetSpec> Targets { get; init; } = [];
}
