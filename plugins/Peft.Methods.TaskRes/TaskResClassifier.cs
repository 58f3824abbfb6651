using Peft.Core;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Methods.TaskRes;

/// <summary>
/// TaskRes's head (trainers/taskres.py <c>CustomCLIP.forward</c> after the image encoder): class weights
/// t' = t + α·x (base t, learned residual x, <c>TaskResLearner.forward</c>), then
/// logits = exp(logit_scale) · normalise(f) · normalise(t')ᵀ.
/// </summary>
sealed class TaskResClassifier(Tensor baseFeatures, double scale, float logitScale) : IFeatureClassifier
{
    /// <summary>The base classifier t [C, D]: the mean of the prompts' unnormalised text features, frozen.</summary>
    public Tensor Base { get; } = baseFeatures;

    /// <summary>The residual x [C, D], initialised to zeros (nn.Parameter(torch.zeros_like(base_text_features))).</summary>
    public Parameter Residual { get; } = new(zeros_like(baseFeatures), requires_grad: true);

    public long TrainableParameters => Residual.numel();

    /// <summary>Names of the official state_dict (prompt_learner.base_text_features / text_feature_residuals).</summary>
    public IReadOnlyDictionary<string, Tensor> Weights => new Dictionary<string, Tensor>
    {
        ["base_text_features"] = Base, ["text_feature_residuals"] = Residual,
    };

    public Tensor Logits(Tensor imageFeatures)
    {
        using var noGrad = no_grad();
        return Forward(imageFeatures);
    }

    /// <summary>The differentiable forward pass (gradients flow into <see cref="Residual"/>).</summary>
    public Tensor Forward(Tensor imageFeatures)
    {
        using var scope = NewDisposeScope();
        var image = imageFeatures.to(ScalarType.Float32);
        image = image / image.norm(-1, keepdim: true);
        var text = Base + Residual * scale;
        text = text / text.norm(-1, keepdim: true);
        return (image.matmul(text.t()) * logitScale).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        Base.Dispose();
        Residual.Dispose();
    }
}
