using Peft.Core.Encoders;

namespace Peft.Methods.ClipLora;

/// <summary>
/// CLIP-LoRA's training (lora.py <c>run_lora</c>): LoRA pairs on the chosen towers, trained with
/// <see cref="ContrastiveTuning"/> (CLIP-LoRA's loop: AdamW, weight decay 1e-2, cosine from lr to 1e-6 over
/// ItersPerShot × shots iterations, logit scale 100, the dataset's first template); the last state is the result.
/// </summary>
public sealed class ClipLoraMethod(ClipLoraOptions options) : IEncoderAdaptationMethod
{
    public IEncoderClassifier Fit(EncoderAdaptationContext context)
    {
        var layers = new ClipLoraLayers(context.Clip, options, context.Generator);
        try
        {
            layers.Adaptation.Checkpointing = options.GradientCheckpointing ? new BlockCheckpointing(context.Generator) : null;
            var classWeights = ContrastiveTuning.Run(context, layers.Adaptation, layers.Parameters().Select(p => (TorchSharp.torch.Tensor)p.Parameter).ToList(),
                new ContrastiveTuningSettings
                {
                    Lr = options.Lr, WeightDecay = options.WeightDecay, Iterations = (long)options.ItersPerShot * context.Task.Shots,
                    BatchSize = options.BatchSize, LogitScale = options.LogitScale,
                    TrainImageTower = options.Encoder != "text", TrainTextTower = options.Encoder != "vision",
                },
                training => layers.Training = training);
            // lora.py evaluate_lora: logits = 100 · normalised adapted image features · the adapted text tower's normalised prompts.
            return new CosineClassifier(layers.Adaptation, classWeights, (float)options.LogitScale,
                layers.Parameters().ToDictionary(p => p.Name, p => (TorchSharp.torch.Tensor)p.Parameter), layers,
                ContrastiveTuning.ClassWeightsFor(context.Clip, context.Tokenizer, layers.Adaptation));
        }
        catch
        {
            layers.Dispose();
            throw;
        }
    }
}
