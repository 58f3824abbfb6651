using Peft.Core;
using Peft.Data.Augmentation;
using static TorchSharp.torch;

namespace Peft.Host.Methods;

/// <summary>
/// What one method sees of a cell's <see cref="ICellFeatures"/>: the shared training and validation features and
/// the augmented views of the method's own training transform. Only the <see cref="ITaskFeatures"/> members exist
/// here — no test split — so a method holding this object has no way to the test features.
/// </summary>
public sealed class MethodTaskFeatures(ICellFeatures features, AugmentationSpec augmentation) : ITaskFeatures
{
    /// <summary>The transform <see cref="TrainViews"/> serves.</summary>
    public AugmentationSpec Augmentation => augmentation;
    public int Dim => features.Dim;
    public Tensor TrainLabels => features.TrainLabels;
    public Tensor ValLabels => features.ValLabels;
    public Tensor TrainFeatures() => features.TrainFeatures();
    public Tensor ValFeatures() => features.ValFeatures();
    public Tensor TrainViews(int views) => features.TrainViews(augmentation, views);
}
