using Peft.Core;

namespace Peft.Methods.ZeroShot;

/// <summary>
/// Zero-shot CLIP: class weights from prompt templates (<see cref="TextClassifier"/>), logits scaled by CLIP's own
/// temperature exp(logit_scale) as CoOp's ZeroshotCLIP does. No training; the training features are not read.
/// </summary>
public sealed class ZeroShotClip(ZeroShotOptions options) : IAdaptationMethod
{
    public IFeatureClassifier Fit(AdaptationContext context)
    {
        var templates = options.Templates switch
        {
            "dataset" => context.Task.Templates,
            "ensemble7" => PromptTemplates.ImageNetSelected7,
            "dataset+ensemble7" => [.. PromptTemplates.ImageNetSelected7, .. context.Task.Templates],
            "ensemble80" => PromptTemplates.ImageNet80,
            _ => throw new InvalidOperationException($"templates '{options.Templates}'"),
        };
        var weights = TextClassifier.Build(context.TextEncoder, context.Tokenizer, context.Task.ClassNames, templates);
        return new LinearHeadClassifier(weights, context.TextEncoder.LogitScale);
    }
}
