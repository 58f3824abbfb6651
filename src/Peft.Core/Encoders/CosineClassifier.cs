using static TorchSharp.torch;

namespace Peft.Core.Encoders;

/// <summary>
/// The adapted CLIP as a classifier, as CLIP-LoRA, BitFit, VPT and MaPLe evaluate it: logits = scale · normalised
/// image features (computed by the host with <see cref="Adaptation"/> applied) · the normalised class weights [C, D].
/// <see cref="Weights"/> are the trained tensors (the run's artifact); disposing disposes <paramref name="owner"/> (their
/// holder) and the class weights.
/// </summary>
public sealed class CosineClassifier(TowerAdaptation adaptation, Tensor classWeights, float scale,
    IReadOnlyDictionary<string, Tensor> weights, IDisposable owner) : IEncoderClassifier
{
    public TowerAdaptation Adaptation => adaptation;

    public Tensor Logits(Tensor imageFeatures)
    {
        using var s = NewDisposeScope();
        return Normalize(imageFeatures.to(ScalarType.Float32)).matmul(classWeights.t()).mul(scale).MoveToOuterDisposeScope();
    }

    public long TrainableParameters => weights.Values.Sum(w => w.numel());
    public IReadOnlyDictionary<string, Tensor> Weights => weights;

    /// <summary>Rows divided by their L2 norm (x / x.norm(dim=-1, keepdim=True), as the official code writes it).</summary>
    public static Tensor Normalize(Tensor x) => x.div(x.norm(1, true));

    public void Dispose()
    {
        owner.Dispose();
        classWeights.Dispose();
    }
}
