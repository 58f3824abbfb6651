using Peft.Core;
using static TorchSharp.torch;

namespace Peft.Methods.ZeroShot;

/// <summary>
/// logits = scale · normalise(f) · Wᵀ with fixed weights W [C, D] (CLIP's zero-shot head). <paramref name="weightsFor"/>
/// builds W for other classes the same way (their names, their templates), so zero-shot CLIP is scored on the new classes
/// of base-to-new and on transfer targets exactly as on its own classes.
/// </summary>
sealed class LinearHeadClassifier(Tensor weights, float scale, Func<FewShotTask, Tensor> weightsFor) : IFeatureClassifier, IOpenVocabularyClassifier
{
    public long TrainableParameters => 0;
    public IReadOnlyDictionary<string, Tensor> Weights { get; } = new Dictionary<string, Tensor> { ["text_classifier"] = weights };

    public Tensor Logits(Tensor imageFeatures)
    {
        using var scope = NewDisposeScope();
        var f = nn.functional.normalize(imageFeatures.to(ScalarType.Float32), dim: -1);
        return (f.matmul(weights.t()) * scale).MoveToOuterDisposeScope();
    }

    public IFeatureClassifier ForClasses(FewShotTask classes) => new LinearHeadClassifier(weightsFor(classes), scale, weightsFor);

    public void Dispose() => weights.Dispose();
}
