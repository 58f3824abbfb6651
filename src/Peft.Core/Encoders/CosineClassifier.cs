using static TorchSharp.torch;

namespace Peft.Core.Encoders;

/// <summary>
/// The adapted CLIP as a classifier, as CLIP-LoRA, BitFit, VPT and MaPLe evaluate it: logits = scale · normalised
/// image features (computed by the host with <see cref="Adaptation"/> applied) · the normalised class weights [C, D].
/// <see cref="Weights"/> are the trained tensors (the run's artifact); disposing disposes <paramref name="owner"/> (their
/// holder) and the class weights. With <paramref name="classWeightsFor"/> (normalised class weights [C', D] of other
/// classes, from the same adapted towers) it also classifies classes it was not trained on (base-to-new, transfer).
/// </summary>
public sealed class CosineClassifier(TowerAdaptation adaptation, Tensor classWeights, float scale,
    IReadOnlyDictionary<string, Tensor> weights, IDisposable owner, Func<FewShotTask, Tensor>? classWeightsFor = null)
    : IEncoderClassifier, IOpenVocabularyClassifier
{
    public TowerAdaptation Adaptation => adaptation;

    public Tensor Logits(Tensor imageFeatures) => Logits(imageFeatures, classWeights, scale);

    /// <summary>scale · normalised fp32 image features · class weights [C, D]ᵀ.</summary>
    static Tensor Logits(Tensor imageFeatures, Tensor classWeights, float scale)
    {
        using var s = NewDisposeScope();
        return Normalize(imageFeatures.to(ScalarType.Float32)).matmul(classWeights.t()).mul(scale).MoveToOuterDisposeScope();
    }

    public long TrainableParameters => weights.Values.Sum(w => w.numel());
    public IReadOnlyDictionary<string, Tensor> Weights => weights;

    /// <summary>The same cosine classifier over <paramref name="classes"/> (null without <c>classWeightsFor</c>); the host
    /// scores it on image features computed with <see cref="Adaptation"/> applied.</summary>
    public IFeatureClassifier? ForClasses(FewShotTask classes)
    {
        if (classWeightsFor is null) return null;
        Tensor w;
        using (no_grad()) w = classWeightsFor(classes).to(ScalarType.Float32).detach().DetachFromDisposeScope();
        return new OtherClasses(w, scale);
    }

    /// <summary>Rows divided by their L2 norm (x / x.norm(dim=-1, keepdim=True), as the official code writes it).</summary>
    public static Tensor Normalize(Tensor x) => x.div(x.norm(1, true));

    public void Dispose()
    {
        owner.Dispose();
        classWeights.Dispose();
    }

    sealed class OtherClasses(Tensor classWeights, float scale) : IFeatureClassifier
    {
        public Tensor Logits(Tensor imageFeatures) => CosineClassifier.Logits(imageFeatures, classWeights, scale);

        public long TrainableParameters => 0;
        public IReadOnlyDictionary<string, Tensor> Weights { get; } = new Dictionary<string, Tensor>();
        public void Dispose() => classWeights.Dispose();
    }
}
