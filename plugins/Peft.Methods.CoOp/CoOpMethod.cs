using Peft.Core;
using Peft.Core.Prompting;
using static TorchSharp.torch;

namespace Peft.Methods.CoOp;

/// <summary>
/// CoOp (Zhou et al., "Learning to Prompt for Vision-Language Models", IJCV 2022; KaiyangZhou/CoOp trainers/coop.py):
/// M learned context vectors replace the hand-written template; the frozen CLIP text tower encodes
/// [SOS][ctx][class . EOT], logits = exp(logit_scale)·cos(image, text), cross-entropy, SGD on the context only.
/// </summary>
/// <remarks>
/// Differences from the official code, all without effect on the objective: training runs in fp32 (the official
/// default <c>PREC</c> is fp16; <c>precision: bf16</c> trains through a bf16 copy of the tower, context in fp32); image features come from the cached augmented views (epoch e uses view e mod V)
/// instead of re-encoding freshly augmented images each epoch; the sequence is truncated to the longest prompt
/// (exact under the causal mask); classes go through the text tower in chunks (exact gradient, see <see cref="PromptTrainer.Step"/>).
/// </remarks>
public sealed class CoOpMethod(CoOpOptions options) : IAdaptationMethod
{
    public IFeatureClassifier Fit(AdaptationContext context)
    {
        var tower = context.TrainingTextEncoder(options.Precision, "coop");
        using var learner = new PromptLearner(tower, context.Tokenizer, context.Task.ClassNames, options, context.Generator);
        using var trainer = new PromptTrainer(learner, options, PromptTrainer.CrossEntropy(context.TextEncoder.LogitScale));
        int epochs = options.EpochsFor(context.Task.Shots);
        return PromptTuning.Run(context, learner, trainer, epochs, epoch => Schedule.LearningRate(epoch, epochs, options),
            options.TrainViews, options.Select == "best-val", options.ClassChunk);
    }
}

/// <summary>CoOp's learning rate per epoch: <see cref="DasslSchedule.LearningRate"/> with its options.</summary>
static class Schedule
{
    public static double LearningRate(int epoch, int epochs, CoOpOptions o) =>
        DasslSchedule.LearningRate(epoch, epochs, o.Lr, o.WarmupEpochs, o.WarmupLr);
}
