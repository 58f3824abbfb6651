using Peft.Core;
using Peft.Core.Prompting;
using static TorchSharp.torch;

namespace Peft.Methods.KgCoOp;

/// <summary>
/// KgCoOp (Yao et al., CVPR 2023; htyao89/KgCoOp KgCoOp/trainers/kgcoop.py): CoOp's learned context, initialised from
/// "a photo of a", trained with cross-entropy plus λ·(1 − mean over classes of cos(w_c, w_c^clip)), where w_c is the
/// learned prompt's text feature of class c and w_c^clip the normalised CLIP text feature of the hand-crafted prompt:
/// the regulariser keeps the learned classifier near the zero-shot one, which is what helps on unseen classes. SGD and
/// Dassl's warm-up + cosine as CoOp; the last epoch's context kept.
/// </summary>
/// <remarks>
/// As CoOp here: fp32 (the official default PREC is fp16, also for the hand-crafted features), cached augmented views
/// (epoch e uses view e mod V), sequences truncated to the longest prompt (exact under the causal mask).
/// </remarks>
public sealed class KgCoOp(KgCoOpOptions options) : IAdaptationMethod
{
    public IFeatureClassifier Fit(AdaptationContext context)
    {
        IReadOnlyList<string> template = options.HandcraftedTemplate.Length > 0 ? [options.HandcraftedTemplate] : context.Task.Templates.Take(1).ToList();
        using var handcrafted = TextClassifier.Build(context.TextEncoder, context.Tokenizer, context.Task.ClassNames, template); // [C, E], normalised
        using var learner = new PromptLearner(context.TextEncoder, context.Tokenizer, context.Task.ClassNames, options, context.Generator);
        using var trainer = new PromptTrainer(learner, options, Loss(context.TextEncoder.LogitScale, handcrafted, options.Weight));
        return PromptTuning.Run(context, learner, trainer, options.Epochs,
            epoch => DasslSchedule.LearningRate(epoch, options.Epochs, options.Lr, options.WarmupEpochs, options.WarmupLr),
            options.TrainViews, options.Select == "best-val", options.ClassChunk);
    }

    /// <summary>
    /// kgcoop.py CustomCLIP.forward + forward_backward: cross_entropy(exp(logit_scale)·f·ŵᵀ) + λ·(1 − mean_c cos(ŵ_c, w_c^clip)),
    /// ŵ the normalised learned text features, cos as torch.nn.CosineSimilarity(dim=1, eps=1e-7).
    /// </summary>
    internal static Func<Tensor, Tensor, Tensor, Tensor> Loss(float logitScale, Tensor handcrafted, double weight) => (textFeatures, images, labels) =>
    {
        var text = nn.functional.normalize(textFeatures, dim: -1);
        var ce = nn.functional.cross_entropy(images.matmul(text.t()) * logitScale, labels);
        var cos = (text * handcrafted).sum(1) / (text.norm(1) * handcrafted.norm(1)).clamp_min(1e-7);
        return ce + (1 - cos.mean()) * weight;
    };
}
