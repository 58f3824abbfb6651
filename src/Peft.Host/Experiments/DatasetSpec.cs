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

    /// <summary>
    /// Cross-dataset transfer targets (CoCoOp's table 2: ImageNet → ten other datasets): datasets with classes of their
    /// own whose test split the classifiers fitted on this dataset are evaluated on through <see cref="Peft.Core.IOpenVocabularyClassifier"/>
    /// (their class names and templates); methods without it are not applicable there. No cells of their own either.
    /// </summary>
    public IReadOnlyList<DatasetSpec> Transfer { get; init; } = [];
}
