using Peft.Core;
using Peft.Core.Encoders;
using Peft.Core.Prompting;
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
        try
        {
            Tensor classWeights;
            using (var tokens = ContrastiveTuning.ClassPrompts(context, options.PromptPrefix + " {}."))
            using (var text = clip.EncodeText(tokens))
                classWeights = text.div(text.norm(1, true)).DetachFromDisposeScope();
            float scale = clip.LogitScale;
            using Scalar logitScale = scale;
            using var sgd = new Sgd(prompts.Sets.Select(s => (Tensor)s.Prompts).ToList(), options.Momentum, options.WeightDecay);
            using var labels = context.Train.Labels.to(ScalarType.Int64);
            int n = context.Train.Count;
            if (n == 0) throw new ArgumentException("vpt: the cell has no training images");
            int batches = DasslSchedule.BatchesPerEpoch(n, options.BatchSize);
            using (clip.Apply(prompts.Adaptation))
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
                        var image = clip.ForwardImage(context.Train.Images(batch, epoch));
                        var logits = image.div(image.norm(1, true)).matmul(classWeights.t()).mul(logitScale);
                        var loss = nn.functional.cross_entropy(logits, labels.index(tensor(batch)));
                        loss.backward();
                        sgd.Step(lr); // zeroes the gradients after the step
                        lossSum += loss.item<float>();
                    }
                    context.Metrics.Log("train/loss", lossSum / batches, epoch + 1);
                    context.Metrics.Log("train/lr", lr, epoch + 1);
                }
            }
            return new VptClassifier(prompts, classWeights, scale);
        }
        catch
        {
            prompts.Dispose();
            throw;
        }
    }
}

/// <summary>Logits = logit_scale.exp() · normalised prompted image features · the fixed normalised class prompts.</summary>
sealed class VptClassifier(VisualPrompts prompts, Tensor classWeights, float scale) : IEncoderClassifier
{
    public TowerAdaptation Adaptation => prompts.Adaptation;

    public Tensor Logits(Tensor imageFeatures)
    {
        using var s = NewDisposeScope();
        var f = imageFeatures.to(ScalarType.Float32);
        return f.div(f.norm(1, true)).matmul(classWeights.t()).mul(scale).MoveToOuterDisposeScope();
    }

    public long TrainableParameters => prompts.Sets.Sum(p => p.Prompts.numel());
    public IReadOnlyDictionary<string, Tensor> Weights => prompts.Sets.ToDictionary(p => $"vpt.{p.Name}", p => (Tensor)p.Prompts);

    public void Dispose()
    {
        prompts.Dispose();
        classWeights.Dispose();
    }
}
