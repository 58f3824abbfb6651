using static TorchSharp.torch;

namespace Peft.Core.Prompting;

/// <summary>The epoch loop prompt-learning methods share (CoOp's Dassl trainer): one cached view per epoch, per-epoch learning rate, last or best-validation context kept.</summary>
public static class PromptTuning
{
    /// <summary>
    /// Trains <paramref name="learner"/>'s context for <paramref name="epochs"/> epochs, epoch e on cached view e mod
    /// <paramref name="trainViews"/> at <paramref name="learningRate"/>(e); logs train_loss and lr per epoch (and val_acc
    /// with <paramref name="bestVal"/>, keeping the first epoch of the best validation accuracy, as Dassl's is_best);
    /// returns the head of the kept context.
    /// </summary>
    public static PromptClassifier Run(AdaptationContext context, PromptLearner learner, PromptTrainer trainer, int epochs,
        Func<int, double> learningRate, int trainViews, bool bestVal, int classChunk)
    {
        var views = context.Features.TrainViews(trainViews);
        var labels = context.Features.TrainLabels.to(ScalarType.Int64);
        Tensor? best = null;
        double bestAcc = double.NegativeInfinity;
        try
        {
            for (int epoch = 0; epoch < epochs; epoch++)
            {
                double lr = learningRate(epoch);
                using var view = views[epoch % views.shape[0]];
                double loss = trainer.Epoch(view, labels, lr, context.Generator, context.Cancellation);
                context.Metrics.Log("train_loss", loss, epoch);
                context.Metrics.Log("lr", lr, epoch);
                if (bestVal)
                {
                    double acc = trainer.Accuracy(context.Features.ValFeatures(), context.Features.ValLabels);
                    context.Metrics.Log("val_acc", acc, epoch);
                    if (acc > bestAcc)  // Dassl: is_best = curr_result > best_result (first best epoch wins ties)
                    {
                        bestAcc = acc;
                        best?.Dispose();
                        best = learner.Ctx.detach().clone();
                    }
                }
            }
            if (best is not null)
            {
                using var noGrad = no_grad();
                learner.Ctx.copy_(best);
            }
            // Trained through a bf16 copy of the tower: the classifier's text features come from the context's tower (fp32).
            using var evaluation = ReferenceEquals(learner.Encoder, context.TextEncoder) ? null : learner.WithEncoder(context.TextEncoder);
            var text = (evaluation ?? learner).TextFeatures(classChunk);
            var ctx = learner.Ctx.detach().clone();
            var (encoder, tokenizer, settings) = (context.TextEncoder, context.Tokenizer, learner.Settings);
            // A shared context also classifies other classes (base-to-new, cross-dataset transfer); a class-specific one cannot.
            Func<IReadOnlyList<string>, Tensor>? textFor = ctx.dim() != 2 ? null : names =>
            {
                using var other = PromptLearner.WithContext(encoder, tokenizer, names, settings, ctx);
                return other.TextFeatures(classChunk);
            };
            return new PromptClassifier(text, context.TextEncoder.LogitScale, ctx) { TextFor = textFor };
        }
        finally
        {
            best?.Dispose();
        }
    }
}

/// <summary>A trained prompt head (CoOp, KgCoOp): logits = exp(logit_scale)·normalise(f)·Tᵀ with the learned prompts' text features T [C, E].</summary>
public sealed class PromptClassifier(Tensor textFeatures, float scale, Tensor ctx) : IFeatureClassifier, IOpenVocabularyClassifier
{
    /// <summary>Normalised text features [C', E] of other class names around the learned context; null when the context is class-specific.</summary>
    public Func<IReadOnlyList<string>, Tensor>? TextFor { get; init; }

    /// <summary>The learned context with other class names (CoOp's evaluation of new classes); null for a class-specific context.</summary>
    public IFeatureClassifier? ForClasses(FewShotTask classes) =>
        TextFor is null ? null : new PromptClassifier(TextFor(classes.ClassNames), scale, ctx.clone()) { TextFor = TextFor };

    public long TrainableParameters => ctx.numel();
    public IReadOnlyDictionary<string, Tensor> Weights { get; } =
        new Dictionary<string, Tensor> { ["ctx"] = ctx, ["text_features"] = textFeatures };

    public Tensor Logits(Tensor imageFeatures)
    {
        using var scope = NewDisposeScope();
        var f = nn.functional.normalize(imageFeatures.to(ScalarType.Float32), dim: -1);
        return (f.matmul(textFeatures.t()) * scale).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        textFeatures.Dispose();
        ctx.Dispose();
    }
}
