using Peft.Core.Encoders;
using static TorchSharp.torch;

namespace Peft.Methods.BitFit;

/// <summary>
/// BitFit on CLIP: shifts of the biases (and norms) inside the towers, trained with <see cref="ContrastiveTuning"/>
/// under 2SFS's settings (<see cref="BitFitOptions"/>); weight decay acts on the biases themselves, as when the official
/// code hands the bias tensors to AdamW. The classifier is the adapted text tower's prompts at the model's logit scale.
/// </summary>
public sealed class BitFitMethod(BitFitOptions options) : IEncoderAdaptationMethod
{
    public IEncoderClassifier Fit(EncoderAdaptationContext context)
    {
        var shifts = new BitFitShifts(context.Clip, options);
        try
        {
            shifts.Adaptation.Checkpointing = options.GradientCheckpointing ? new BlockCheckpointing(context.Generator) : null;
            float scale = context.Clip.LogitScale; // 2SFS: clip_model.logit_scale.exp()
            var weights = ContrastiveTuning.Run(context, shifts.Adaptation, shifts.Parameters.Select(p => (Tensor)p.Parameter).ToList(),
                new ContrastiveTuningSettings
                {
                    Lr = options.Lr, WeightDecay = options.WeightDecay, Iterations = (long)options.ItersPerShot * context.Task.Shots,
                    BatchSize = options.BatchSize, LogitScale = scale,
                    TrainImageTower = options.Towers != "text", TrainTextTower = options.Towers != "vision",
                },
                decayAnchors: shifts.Parameters.Select(p => (Tensor?)p.Frozen).ToList());
            // Logits = scale · normalised adapted image features · the adapted text tower's normalised prompts.
            return new CosineClassifier(shifts.Adaptation, weights, scale, shifts.Parameters.ToDictionary(p => p.Name, p => (Tensor)p.Parameter), shifts,
                ContrastiveTuning.ClassWeightsFor(context.Clip, context.Tokenizer, shifts.Adaptation));
        }
        catch
        {
            shifts.Dispose();
            throw;
        }
    }
}
