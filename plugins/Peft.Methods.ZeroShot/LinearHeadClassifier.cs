using Peft.Core;
using static TorchSharp.torch;

namespace Peft.Methods.ZeroShot;

/// <summary>logits = scale · normalise(f) · Wᵀ with fixed weights W [C, D] (CLIP's zero-shot head).</summary>
sealed class LinearHeadClassifier(Tensor weights, float scale) : IFeatureClassifier
{
    public long TrainableParameters => 0;
    public IReadOnlyDictionary<string, Tensor> Weights { get; } = new Dictionary<string, Tensor> { ["text_classifier"] = weights };

    public Tensor Logits(Tensor imageFeatures)
    {
        using var scope = NewDisposeScope();
        var f = nn.functional.normalize(imageFeatures.to(ScalarType.Float32), dim: -1);
        return (f.matmul(weights.t()) * scale).MoveToOuterDisposeScope();
    }

    public void Dispose() => weights.Dispose();
}
