using static TorchSharp.torch;

namespace Peft.Core;

/// <summary>
/// The frozen image features of one cell that a method may read, computed once by the host's feature cache and
/// shared by every method. Features are as CLIP's <c>encode_image</c> returns them: float32, projected, not
/// normalised. There is deliberately no test split here: the host evaluates the returned classifier.
/// </summary>
public interface ITaskFeatures
{
    /// <summary>Feature dimension D.</summary>
    int Dim { get; }

    /// <summary>Labels of the K-shot training images [N] (int64), in the order of every training tensor below.</summary>
    Tensor TrainLabels { get; }

    /// <summary>Training images through the evaluation transform [N, D] (what a linear probe trains on).</summary>
    Tensor TrainFeatures();

    /// <summary>Augmented training views [V, N, D] (RandomResizedCrop + flip, seeded by the cell); view v is fixed per image.</summary>
    Tensor TrainViews(int views);

    /// <summary>Validation features [M, D] (evaluation transform), for model and hyperparameter selection.</summary>
    Tensor ValFeatures();

    /// <summary>Validation labels [M] (int64).</summary>
    Tensor ValLabels { get; }
}
