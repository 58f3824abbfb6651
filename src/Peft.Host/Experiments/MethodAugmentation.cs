using Peft.Core;
using Peft.Data.Augmentation;

namespace Peft.Host.Experiments;

/// <summary>
/// The training transform one method of an experiment gets, and why: <c>official</c> (the method's declaration,
/// <see cref="MethodDescriptor.Augmentation"/>), <c>experiment</c> (forced by the experiment's <c>augmentation</c>
/// setting, for all methods or this one), or <c>fallback</c> (the method declares none;
/// <see cref="TrainingAugmentation.Fallback"/>). <see cref="ExperimentSpec.AugmentationOf"/> gives it.
/// </summary>
public sealed record MethodAugmentation(string Method, TrainingAugmentation Transform, string Origin)
{
    /// <summary>Whether the method reads augmented views at all (declared a transform, or was given one by the experiment).</summary>
    public bool UsesViews => Origin != "fallback";

    /// <summary>The cacheable pixel transform at the backbone's input size.</summary>
    public AugmentationSpec Spec(int size) => ToSpec(Transform, size);

    public static AugmentationSpec ToSpec(TrainingAugmentation transform, int size) =>
        new(size, scaleMin: transform.ScaleMin, scaleMax: transform.ScaleMax, flipProbability: transform.FlipProbability,
            centerCrop: transform.CenterCrop);

    /// <summary>As logged and listed: <c>dassl (official)</c>.</summary>
    public override string ToString() => $"{Transform.Name} ({Origin})";
}
