using Peft.Core;
using Peft.Core.Encoders;
using TorchSharp;
using static TorchSharp.torch;

namespace Peft.Methods.Maple;

/// <summary>
/// MaPLe's training (trainers/maple.py on Dassl's TrainerX): each batch runs the prompt learner, encodes every class
/// prompt with the prompted text tower and the augmented images with the prompted image tower, and minimises the
/// cross-entropy of logit_scale.exp() · cosine similarity with SGD over all prompt-learner parameters (context,
/// projections, compound prompts), the learning rate following Dassl's constant warm-up and per-epoch cosine; Dassl's
/// drop_last rule; the last state is the result.
/// </summary>
public sealed class MapleMethod(MapleOptions options) : IEncoderAdaptationMethod
{
    public IEncoderClassifier Fit(EncoderAdaptationContext context)
    {
        var clip = context.Clip;
        var task = context.Task;
        bool fromPhrase = options.CtxInit.Length > 0 && options.NCtx <= 4;
        string prefix = fromPhrase ? options.CtxInit.Replace('_', ' ') : string.Join(' ', Enumerable.Repeat("X", options.NCtx));
        Tensor Tokens(IEnumerable<string> classNames) =>
            context.Tokenizer.TokenizeToTensor(classNames.Select(c => $"{prefix} {c.Replace('_', ' ')}.").ToList(), clip.ContextLength, truncate: true);
        using var tokens = Tokens(task.ClassNames);
        Tensor? ctxInit = null;
        if (fromPhrase)
        {
            using var phrase = context.Tokenizer.TokenizeToTensor([prefix], clip.ContextLength);
            using var embedded = clip.EmbedTokens(phrase);
            ctxInit = embedded[0].narrow(0, 1, options.NCtx).detach().clone();
        }
        var learner = new MaplePrompts(clip, tokens, options.NCtx, options.Depth, ctxInit, context.Generator);
        ctxInit?.Dispose();
        try
        {
            learner.Adaptation.Checkpointing = options.GradientCheckpointing ? new BlockCheckpointing(context.Generator) : null;
            float scale = clip.LogitScale;
            using Scalar logitScale = scale;
            Tensor classWeights;
            using (clip.Apply(learner.Adaptation))
            {
                DasslTraining.Run(context, learner.Parameters().Select(p => (Tensor)p.Parameter).ToList(),
                    new(options.Epochs, options.BatchSize, options.Lr, options.Momentum, options.WeightDecay, options.WarmupEpochs, options.WarmupLr),
                    (batch, epoch) => CosineClassifier.Normalize(clip.ForwardImage(context.Train.Images(batch, epoch)))
                        .matmul(CosineClassifier.Normalize(learner.TextFeatures(clip)).t()).mul(logitScale));
                using (no_grad())
                    classWeights = CosineClassifier.Normalize(learner.TextFeatures(clip)).DetachFromDisposeScope();
            }
            // Logits = logit_scale.exp() · normalised prompted image features · the prompted text tower's normalised class prompts.
            return new CosineClassifier(learner.Adaptation, classWeights, scale,
                learner.Parameters().ToDictionary(p => $"prompt_learner.{p.Name}", p => (Tensor)p.Parameter), learner,
                classes =>
                {
                    using var other = Tokens(classes.ClassNames);
                    using var applied = clip.Apply(learner.Adaptation);
                    return CosineClassifier.Normalize(learner.TextFeaturesOf(clip, other));
                });
        }
        catch
        {
            learner.Dispose();
            throw;
        }
    }
}
