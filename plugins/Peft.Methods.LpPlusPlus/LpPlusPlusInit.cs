using static TorchSharp.torch;

namespace Peft.Methods.LpPlusPlus;

/// <summary>
/// LP++'s data-driven step sizes and initialisation (linear_probe_p2.py <c>calculate_lr_w</c>,
/// <c>calculate_lr_alpha</c>, <c>calculate_init_alpha</c>, and utils.py <c>compute_centroids</c>), on the
/// normalised training features F [N, D] and the text embeddings T [D, C], in float32 as the official code computes
/// them (its double steps in double).
/// </summary>
static class LpPlusPlusInit
{
    /// <summary>calculate_init_alpha's constant: α₀ = 250 / shots · (shots · mean class text logit).</summary>
    public const double InitAlphaScale = 250;

    /// <summary>Step size of the linear weights: 4N / λ_max(FᵀF) (calculate_lr_w; scipy eigh in float32, the ratio
    /// in double as NumPy computes int / float32).</summary>
    public static double StepSizeW(Tensor features)
    {
        using var scope = NewDisposeScope();
        float maxEigen = linalg.eigvalsh(features.t().matmul(features)).max().item<float>();
        return 4.0 * features.shape[0] / maxEigen;
    }

    /// <summary>Step size of the multipliers: N / (4 · max_c Σᵢ (fᵢ·t_c)²) (calculate_lr_alpha; float32).</summary>
    public static float StepSizeAlpha(Tensor features, Tensor textWeights)
    {
        using var scope = NewDisposeScope();
        float maxSum = features.matmul(textWeights).pow(2).sum([0]).max().item<float>();
        return features.shape[0] / (maxSum * 4);
    }

    /// <summary>
    /// Initial multiplier of every class (calculate_init_alpha): 250 / shots · shots · the mean over classes c of the
    /// class mean of fᵢ·t_c over c's images (compute_centroids_alpha: one-hot · logits / counts, summed).
    /// </summary>
    public static double InitialAlpha(Tensor features, Tensor labels, Tensor textWeights, int classes, int shots)
    {
        using var scope = NewDisposeScope();
        var oneHot = nn.functional.one_hot(labels, classes).to(ScalarType.Float32);           // [N, C]
        var tilde = (oneHot * features.matmul(textWeights) / oneHot.sum([0], keepdim: true)).sum([0]); // [C]
        return (tilde.to(ScalarType.Float64) * shots * (InitAlphaScale / shots)).mean().item<double>();
    }

    /// <summary>Initial linear weights: the sum (not the mean) of each class's features, [C, D] (compute_centroids).</summary>
    public static Tensor ClassSums(Tensor features, Tensor labels, int classes)
    {
        using var scope = NewDisposeScope();
        return nn.functional.one_hot(labels, classes).to(ScalarType.Float32).t().matmul(features).MoveToOuterDisposeScope();
    }
}
