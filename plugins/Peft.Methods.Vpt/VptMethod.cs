using Peft.Core;
using Peft.Core.Encoders;
using TorchSharp;
using static TorchSharp.torch;

namespace Peft.Methods.Vpt;

/// <summary>
/// VPT's training (trainers/vpt.py on Dassl's TrainerX): the frozen text tower encodes one fixed prompt per class
/// ("a photo of a {class}."); each batch of augmented images goes through the image tower with the prompts, and the
/// cross-entropy of logit_scale.exp() · cosine similarity trains the prompts with SGD, the learning rate following
/// Dassl's constant warm-up and per-epoch cosine. Batches per epoch follow Dassl's drop_last rule; the last state is the
/// result (<c>TEST.FINAL_MODEL</c> = last_step).
/// </summary>
public sealed class VptMethod(VptOptions options) : IEncoderAdaptationMethod
{
    public IEncoderClassifier Fit(EncoderAdaptationContext context)
    {
        var clip = context.Clip;
        var prompts = new VisualPrompts(clip, options, context.Generator);
        Tensor? classWeights = null;
        try
        {
            prompts.Adaptation.Checkpointing = options.GradientCheckpointing ? new BlockCheckpointing(context.Generator) : null;
            using (var tokens = ContrastiveTuning.ClassPrompts(context, options.PromptPrefix + " {}."))
            using (var text = clip.EncodeText(tokens))
                classWeights = CosineClassifier.Normalize(text).DetachFromDisposeScope();
            float scale = clip.LogitScale;
            using Scalar logitScale = scale;
            using (clip.Apply(prompts.Adaptation))
                DasslTraining.Run(context, prompts.Sets.Select(s => (Tensor)s.Prompts).ToList(),
                    new(options.Epochs, options.BatchSize, options.Lr, options.Momentum, options.WeightDecay, options.WarmupEpochs, options.WarmupLr),
                    (batch, epoch) => CosineClassifier.Normalize(clip.ForwardImage(context.Train.Images(batch, epoch))).matmul(classWeights.t()).mul(logitScale));
            // Logits = logit_scale.exp() · normalised prompted image features · the fixed normalised class prompts.
            return new CosineClassifier(prompts.Adaptation, classWeights, scale,
                prompts.Sets.ToDictionary(p => $"vpt.{p.Name}", p => (Tensor)p.Prompts), prompts,
                ContrastiveTuning.ClassWeightsFor(clip, context.Tokenizer, prompts.Adaptation, options.PromptPrefix + " {}."));
        }
        catch
        {
            prompts.Dispose();
            classWeights?.Dispose();
            throw;
        }
    }
}
