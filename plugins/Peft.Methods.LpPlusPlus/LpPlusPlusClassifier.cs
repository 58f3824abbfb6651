using Peft.Core;
using static TorchSharp.torch;

namespace Peft.Methods.LpPlusPlus;

/// <summary>
/// LP++'s classifier on normalised image features f: logits = f Wᵀ + b + α ⊙ (f T), the class-wise multipliers α
/// blending the linear probe with the text embeddings T [D, C] (linear_probe_p2.py's logits_test).
/// </summary>
sealed class LpPlusPlusClassifier(Tensor weight, Tensor bias, Tensor alpha, Tensor textWeights) : IFeatureClassifier
{
    public long TrainableParameters => weight.numel() + bias.numel() + alpha.numel();

    public IReadOnlyDictionary<string, Tensor> Weights => new Dictionary<string, Tensor>
    {
        ["weight"] = weight, ["bias"] = bias, ["alpha"] = alpha, ["text_weights"] = textWeights,
    };

    /// <summary>Logits of already normalised features, differentiable (the training forward).</summary>
    public static Tensor Blend(Tensor normalised, Tensor weight, Tensor bias, Tensor alpha, Tensor textWeights)
    {
        using var scope = NewDisposeScope();
        var vision = nn.functional.linear(normalised, weight, bias);
        // torch.ones(N, 1) @ alpha_vec * text_logits, as the official code writes it.
        var multipliers = ones(normalised.shape[0], 1).matmul(alpha);
        return (vision + multipliers * normalised.matmul(textWeights)).MoveToOuterDisposeScope();
    }

    /// <summary>Features divided by their norm, as main.py's pre_load_features does.</summary>
    public static Tensor Normalise(Tensor features)
    {
        using var scope = NewDisposeScope();
        var f = features.to(ScalarType.Float32);
        return (f / f.norm(-1, keepdim: true)).MoveToOuterDisposeScope();
    }

    public Tensor Logits(Tensor imageFeatures)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        return Blend(Normalise(imageFeatures), weight, bias, alpha, textWeights).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        weight.Dispose();
        bias.Dispose();
        alpha.Dispose();
        textWeights.Dispose();
    }
}
