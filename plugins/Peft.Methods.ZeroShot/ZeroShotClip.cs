using Peft.Core;
using static TorchSharp.torch;

namespace Peft.Methods.ZeroShot;

/// <summary>
/// Zero-shot CLIP: class weights from prompt templates (<see cref="TextClassifier"/>), logits scaled by CLIP's own
/// temperature exp(logit_scale) as CoOp's ZeroshotCLIP does. No training; the training features are not read.
/// </summary>
public sealed class ZeroShotClip(ZeroShotOptions options) : IAdaptationMethod
{
    public IFeatureClassifier Fit(AdaptationContext context)
    {
        var (encoder, tokenizer) = (context.TextEncoder, context.Tokenizer);
        Tensor WeightsFor(FewShotTask task) =>
            TextClassifier.Build(encoder, tokenizer, task.ClassNames, PromptTemplates.Resolve(options.Templates, task.Templates));
        return new LinearHeadClassifier(WeightsFor(context.Task), encoder.LogitScale, WeightsFor);
    }
}
