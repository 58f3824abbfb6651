using Peft.Core;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Methods.Clap;

/// <summary>
/// CLAP's linear probe (trainers/adapters.py <c>CustomCLIP.forward_lp</c>): class prototypes w, initialised with the
/// zero-shot prototypes t (<c>AdapterMethod</c>, INIT ZS), and logits = exp(logit_scale) · normalise(f) · normalise(w)ᵀ.
/// </summary>
sealed class ClapClassifier(Tensor zeroShotPrototypes, float logitScale) : IFeatureClassifier
{
    /// <summary>The zero-shot prototypes t [C, D]: the mean of the prompts' unnormalised text features, frozen.</summary>
    public Tensor ZeroShot { get; } = zeroShotPrototypes;

    /// <summary>The trained prototypes w [C, D], starting at t (nn.Parameter(base_text_features.clone())).</summary>
    public Parameter Prototypes { get; } = new(zeroShotPrototypes.clone(), requires_grad: true);

    /// <summary>The constraint's class weights λ [C] (null without a constraint), kept for the record.</summary>
    public Tensor? Multipliers { get; set; }

    public long TrainableParameters => Prototypes.numel();

    /// <summary>Names of the official state_dict (adapter.prototypes / adapter.base_text_features) and the multipliers.</summary>
    public IReadOnlyDictionary<string, Tensor> Weights
    {
        get
        {
            var weights = new Dictionary<string, Tensor> { ["prototypes"] = Prototypes, ["base_text_features"] = ZeroShot };
            if (Multipliers is not null) weights["multipliers"] = Multipliers;
            return weights;
        }
    }

    public Tensor Logits(Tensor imageFeatures)
    {
        using var noGrad = no_grad();
        return Forward(imageFeatures);
    }

    /// <summary>The differentiable forward pass (gradients flow into <see cref="Prototypes"/>).</summary>
    public Tensor Forward(Tensor imageFeatures)
    {
        using var scope = NewDisposeScope();
        var image = imageFeatures.to(ScalarType.Float32);
        image = image / image.norm(-1, keepdim: true);
        var prototypes = Prototypes / Prototypes.norm(-1, keepdim: true);
        return (image.matmul(prototypes.t()) * logitScale).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        ZeroShot.Dispose();
        Prototypes.Dispose();
        Multipliers?.Dispose();
    }
}
