using Peft.Core;
using static TorchSharp.torch;

namespace Peft.Methods.TipAdapter;

/// <summary>
/// logits = s · f Wᵀ + α · exp(−β(1 − f Kᵀ)) L with f the L2-normalised image features, W the CLIP classifier [C, D],
/// K the cache keys [N, D] (used as they are: the fine-tuned keys of Tip-Adapter-F are not renormalised, as in main.py)
/// and L the one-hot values [N, C].
/// </summary>
sealed class TipAdapterClassifier(Tensor clipWeights, Tensor keys, Tensor values, double alpha, double beta, double logitScale,
    long trainableParameters) : IFeatureClassifier
{
    public double Alpha => alpha;
    public double Beta => beta;
    public long TrainableParameters => trainableParameters;

    public IReadOnlyDictionary<string, Tensor> Weights { get; } = new Dictionary<string, Tensor>
    {
        ["cache_keys"] = keys, ["cache_values"] = values, ["clip_weights"] = clipWeights,
        ["alpha"] = tensor(alpha), ["beta"] = tensor(beta),
    };

    public Tensor Logits(Tensor imageFeatures)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var f = nn.functional.normalize(imageFeatures.to(ScalarType.Float32), dim: -1);
        var clipLogits = f.matmul(clipWeights.t()) * logitScale;
        var cacheLogits = TipCache.CacheLogits(f.matmul(keys.t()), values, beta);
        return (clipLogits + cacheLogits * alpha).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        foreach (var t in Weights.Values) t.Dispose();
    }
}
