using static TorchSharp.torch;

namespace Peft.Core;

/// <summary>What a method returns: a classifier over frozen image features, which the host evaluates on the test split.</summary>
public interface IFeatureClassifier : IDisposable
{
    /// <summary>Logits [B, C] for image features [B, D] (float32, not normalised, as <see cref="ITaskFeatures"/> gives them).</summary>
    Tensor Logits(Tensor imageFeatures);

    /// <summary>Number of parameters the method trained (0 for training-free methods).</summary>
    long TrainableParameters { get; }

    /// <summary>The trained (or built) tensors worth keeping, by name; the host saves them as an artifact.</summary>
    IReadOnlyDictionary<string, Tensor> Weights { get; }
}
