namespace Peft.Core;

/// <summary>
/// A method's training transform, declared by the method (see <see cref="MethodDescriptor.Augmentation"/>):
/// RandomResizedCrop to the backbone's input size with area scale [<paramref name="ScaleMin"/>, <paramref name="ScaleMax"/>],
/// aspect ratio [3/4, 4/3], bicubic, then a horizontal flip with probability <paramref name="FlipProbability"/>; or, with
/// <see cref="CenterCrop"/>, CLIP's evaluation geometry (short side resized, bicubic, centre crop) then the flip.
/// The host caches <see cref="ITaskFeatures.TrainViews"/> once per (transform, view) and serves each method the views of
/// its own transform unless the experiment forces another (<c>augmentation</c> key).
/// </summary>
/// <param name="Name">Short name used in experiment files, listings and logged params (<c>tip</c>, <c>dassl</c>).</param>
/// <param name="Source">Where the official code sets it (file and call), shown by <c>peft methods</c>.</param>
public sealed record TrainingAugmentation(string Name, double ScaleMin, double ScaleMax, double FlipProbability, string Source)
{
    /// <summary>
    /// Dassl's <c>random_resized_crop</c> + <c>random_flip</c> (CoOp configs/trainers/CoOp/*.yaml INPUT.TRANSFORMS, Dassl
    /// defaults INPUT.RRCROP_SCALE = (0.08, 1.0), INTERPOLATION bicubic): what CoOp and CLIP-Adapter train with.
    /// </summary>
    public static TrainingAugmentation Dassl { get; } = new("dassl", 0.08, 1.0, 0.5,
        "Dassl transforms (CoOp configs/trainers/CoOp/rn50*.yaml: random_resized_crop + random_flip, bicubic; Dassl INPUT.RRCROP_SCALE = (0.08, 1.0))");

    /// <summary>Tip-Adapter main.py: RandomResizedCrop(224, scale=(0.5, 1), bicubic) + RandomHorizontalFlip(p=0.5).</summary>
    public static TrainingAugmentation TipAdapter { get; } = new("tip", 0.5, 1.0, 0.5,
        "gaopengcuhk/Tip-Adapter main.py / main_imagenet.py: RandomResizedCrop(224, scale=(0.5, 1), bicubic) + RandomHorizontalFlip(p=0.5)");

    /// <summary>
    /// Cross-modal adaptation's "flip" view (linzhiqiu/cross_modal_adaptation engine/transforms/default.py
    /// <c>image_augmentation == "flip"</c>): Resize(224, bicubic) + CenterCrop(224) + RandomHorizontalFlip(p=1.0), i.e.
    /// the centre crop mirrored, the same for every view.
    /// </summary>
    public static TrainingAugmentation CenterFlip { get; } = new("flip", 1.0, 1.0, 1.0,
        "linzhiqiu/cross_modal_adaptation engine/transforms/default.py 'flip': Resize(224, bicubic) + CenterCrop(224) + RandomHorizontalFlip(p=1.0)")
    { CenterCrop = true };

    /// <summary>The transforms an experiment may name.</summary>
    public static IReadOnlyList<TrainingAugmentation> Named { get; } = [TipAdapter, Dassl, CenterFlip];

    /// <summary>
    /// Crop with the evaluation geometry (short side to the input size, bicubic, centre crop) instead of a
    /// RandomResizedCrop; <see cref="ScaleMin"/> and <see cref="ScaleMax"/> are then unused.
    /// </summary>
    public bool CenterCrop { get; init; }

    /// <summary>What a method that declares no transform gets when it asks for training views anyway.</summary>
    public static TrainingAugmentation Fallback => Dassl;

    public static TrainingAugmentation? Find(string name) =>
        Named.FirstOrDefault(a => string.Equals(a.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>One line for listings, e.g. <c>dassl: RandomResizedCrop scale 0.08–1 + flip 0.5</c>.</summary>
    public string Describe() => CenterCrop
        ? $"{Name}: centre crop (evaluation geometry) + flip {FlipProbability.ToString(System.Globalization.CultureInfo.InvariantCulture)}"
        : $"{Name}: RandomResizedCrop scale {ScaleMin.ToString(System.Globalization.CultureInfo.InvariantCulture)}–{ScaleMax.ToString(System.Globalization.CultureInfo.InvariantCulture)}, bicubic + flip {FlipProbability.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
}
