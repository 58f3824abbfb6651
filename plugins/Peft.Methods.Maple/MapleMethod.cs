using Peft.Core;
using Peft.Core.Encoders;
using Peft.Core.Prompting;
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
        var prompts = task.ClassNames.Select(c => $"{prefix} {c.Replace('_', ' ')}.").ToList();
        using var tokens = context.Tokenizer.TokenizeToTensor(prompts, clip.ContextLength, truncate: true);
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
            float scale = clip.LogitScale;
            using Scalar logitScale = scale;
            using var sgd = new Sgd(learner.Parameters().Select(p => (Tensor)p.Parameter).ToList(), options.Momentum, options.WeightDecay);
            using var labels = context.Train.Labels.to(ScalarType.Int64);
            int n = context.Train.Count;
            if (n == 0) throw new ArgumentException("maple: the cell has no training images");
            int batches = DasslSchedule.BatchesPerEpoch(n, options.BatchSize);
            Tensor classWeights;
            using (clip.Apply(learner.Adaptation))
            {
                for (int epoch = 0; epoch < options.Epochs; epoch++)
                {
                    double lr = DasslSchedule.LearningRate(epoch, options.Epochs, options.Lr, options.WarmupEpochs, options.WarmupLr);
                    using var order = randperm(n, generator: context.Generator);
                    var indices = order.data<long>().ToArray();
                    double lossSum = 0;
                    for (int b = 0; b < batches; b++)
                    {
                        context.Cancellation.ThrowIfCancellationRequested();
                        using var scope = NewDisposeScope();
                        var batch = indices[(b * options.BatchSize)..Math.Min(n, (b + 1) * options.BatchSize)];
                        var text = learner.TextFeatures(clip);
                        var image = clip.ForwardImage(context.Train.Images(batch, epoch));
                        var logits = image.div(image.norm(1, true)).matmul(text.div(text.norm(1, true)).t()).mul(logitScale);
                        var loss = nn.functional.cross_entropy(logits, labels.index(tensor(batch)));
                        loss.backward();
                        sgd.Step(lr); // zeroes the gradients after the step
                        lossSum += loss.item<float>();
                    }
                    context.Metrics.Log("train/loss", lossSum / batches, epoch + 1);
                    context.Metrics.Log("train/lr", lr, epoch + 1);
                }
                using (no_grad())
                {
                    var text = learner.TextFeatures(clip);
                    classWeights = text.div(text.norm(1, true)).DetachFromDisposeScope();
                }
            }
            return new MapleClassifier(learner, classWeights, scale);
        }
        catch
        {
            learner.Dispose();
            throw;
        }
    }
}

/// <summary>Logits = logit_scale.exp() · normalised prompted image features · the prompted text tower's normalised class prompts.</summary>
sealed class MapleClassifier(MaplePrompts learner, Tensor classWeights, float scale) : IEncoderClassifier
{
    public TowerAdaptation Adaptation => learner.Adaptation;

    public Tensor Logits(Tensor imageFeatures)
    {
        using var s = NewDisposeScope();
        var f = imageFeatures.to(ScalarType.Float32);
        return f.div(f.norm(1, true)).matmul(classWeights.t()).mul(scale).MoveToOuterDisposeScope();
    }

    public long TrainableParameters => learner.Parameters().Sum(p => p.Parameter.numel());
    public IReadOnlyDictionary<string, Tensor> Weights => learner.Parameters().ToDictionary(p => $"prompt_learner.{p.Name}", p => (Tensor)p.Parameter);

    public void Dispose()
    {
        learner.Dispose();
        classWeights.Dispose();
    }
}
