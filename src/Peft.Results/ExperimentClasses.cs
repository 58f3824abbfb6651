namespace Peft.Results;

/// <summary>
/// The experiment's <c>classes</c> setting. <see cref="All"/> (default): every cell trains and is tested on all of its
/// dataset's classes. <see cref="BaseToNew"/>: CoCoOp's base-to-new generalisation (Zhou et al., CVPR 2022; CoOp's
/// <c>DATASET.SUBSAMPLE_CLASSES</c>): the same few-shot split, its classes halved as Dassl's <c>subsample_classes</c>
/// does (Peft.Data's <c>ClassSubsample</c>); methods train and are selected on the base half only; the host
/// tests on the base classes (the cell's test accuracy) and, through <c>Peft.Core.IOpenVocabularyClassifier</c>, on
/// the new classes; reports add the harmonic mean. Methods without that interface are "not applicable" on new classes.
/// </summary>
public static class ExperimentClasses
{
    public const string All = "all";
    public const string BaseToNew = "base-to-new";
    public static readonly IReadOnlyList<string> Names = [All, BaseToNew];

    /// <summary>Param of every cell run (and of the parent): the setting.</summary>
    public const string Param = "classes";
    /// <summary>Tag of a cell run listing what its method could not be evaluated on ("new", "transfer/&lt;target&gt;"), comma-separated.</summary>
    public const string NotApplicableTag = "peft.not_applicable";
}
