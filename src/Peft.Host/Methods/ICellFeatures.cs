using Peft.Core;
using Peft.Data.Augmentation;
using static TorchSharp.torch;

namespace Peft.Host.Methods;

/// <summary>The features of one cell as the host holds them: what methods see (<see cref="ITaskFeatures"/>) plus the test split, for the host's evaluation only.</summary>
public interface ICellFeatures : ITaskFeatures, IDisposable
{
    Tensor TestFeatures();
    Tensor TestLabels { get; }

    /// <summary>Views 0..<paramref name="views"/>-1 [V, N, D] of the training images under <paramref name="augmentation"/>.</summary>
    Tensor TrainViews(AugmentationSpec augmentation, int views);

    /// <summary>The dataset's whole validation split (not the few-shot one), for <see cref="OracleTaskData"/> only.</summary>
    Tensor FullValFeatures();
    Tensor FullValLabels { get; }
}
