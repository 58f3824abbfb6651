using Peft.Core.Encoders;
using static TorchSharp.torch;

namespace Peft.Methods.ClipLora;

/// <summary>
/// The adapted CLIP as a classifier (lora.py <c>evaluate_lora</c>): logits = 100 · normalised image features (from the
/// adapted image tower, computed by the host with <see cref="Adaptation"/> applied) · the adapted text tower's
/// normalised class prompts. Its weights are the LoRA matrices.
/// </summary>
sealed class ClipLoraClassifier(ClipLoraLayers layers, Tensor classWeights, float scale) : IEncoderClassifier
{
    public TowerAdaptation Adaptation => layers.Adaptation;

    public Tensor Logits(Tensor imageFeatures)
    {
        using var scope = NewDisposeScope();
        var f = imageFeatures.to(ScalarType.Float32);
        return f.div(f.norm(1, true)).matmul(classWeights.t()).mul(scale).MoveToOuterDisposeScope();
    }

    public long TrainableParameters => layers.Parameters().Sum(p => p.Parameter.numel());

    public IReadOnlyDictionary<string, Tensor> Weights =>
        layers.Parameters().ToDictionary(p => p.Name, p => (Tensor)p.Parameter);

    public void Dispose()
    {
        layers.Dispose();
        classWeights.Dispose();
    }
}
