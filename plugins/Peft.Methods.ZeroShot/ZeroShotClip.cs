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
        var templates = PromptTemplates.Resolve(options.Templates, context.Task.Templates);
        var weights = TextClassifier.Build(context.TextEncoder, context.Tokenizer, context.Task.ClassNames, templates);
        return new LinearHeadClassifier(weights, context.TextEncoder.LogitScale);
    }
}
