using Peft.Core;
using Peft.Core.Prompting;
using static TorchSharp.torch;

namespace Peft.Methods.CoCoOp;

/// <summary>
/// CoCoOp (Zhou et al., CVPR 2022; KaiyangZhou/CoOp trainers/cocoop.py): CoOp's context plus a per-image shift π(x) from a
/// small meta-net, so every image has its own prompts; cross-entropy, SGD on the context and the meta-net, Dassl's
/// warm-up + cosine, batch 1, 10 epochs, the last epoch kept.
/// </summary>
/// <remarks>
/// As CoOp here: fp32 (the official config's PREC is fp16), cached augmented views (epoch e uses view e mod V), sequences
/// truncated to the longest prompt (exact under the causal mask). Costly by design: a text-tower pass over all classes
/// for every training step and every classified image.
/// </remarks>
public sealed class CoCoOp(CoCoOpOptions options) : IAdaptationMethod
{
    /// <summary>Tests only: the meta-net's initial weights (linear1.weight, linear1.bias, linear2.weight, linear2.bias) instead of a draw.</summary>
    internal Tensor[]? InitialMetaNet { get; init; }

    public IFeatureClassifier Fit(AdaptationContext context)
    {
        var learner = new PromptLearner(context.TextEncoder, context.Tokenizer, context.Task.ClassNames, options, context.Generator);
        var meta = InitialMetaNet is { } w ? MetaNet.From(w[0], w[1], w[2], w[3])
            : MetaNet.Initialise(context.Features.Dim, context.TextEncoder.TextWidth, context.Generator);
        var classifier = new CoCoOpClassifier(learner, meta, context.TextEncoder, context.TextEncoder.LogitScale, options.PromptsPerPass);
        try
        {
            Train(classifier, learner, meta, context);
            return classifier;
        }
        catch
        {
            classifier.Dispose();
            throw;
        }
    }

    void Train(CoCoOpClassifier classifier, PromptLearner learner, MetaNet meta, AdaptationContext context)
    {
        IReadOnlyList<Tensor> parameters = [learner.Ctx, .. meta.Parameters];
        using var sgd = new Sgd(parameters, options.Momentum, options.WeightDecay);
        var views = context.Features.TrainViews(options.TrainViews);
        var labels = context.Features.TrainLabels.to(ScalarType.Int64);
        long n = labels.shape[0];
        int batches = DasslSchedule.BatchesPerEpoch(n, options.BatchSize);
        long size = Math.Min(n, options.BatchSize);
        double bestAccuracy = double.NegativeInfinity;
        Tensor[]? best = null;
        try
        {
            for (int epoch = 0; epoch < options.Epochs; epoch++)
            {
                double lr = DasslSchedule.LearningRate(epoch, options.Epochs, options.Lr, options.WarmupEpochs, options.WarmupLr);
                double total = 0;
                using (var epochScope = NewDisposeScope())
                {
                    var x = views[epoch % options.TrainViews];
                    var order = randperm(n, generator: context.Generator);   // RandomSampler
                    for (int b = 0; b < batches; b++)
                    {
                        context.Cancellation.ThrowIfCancellationRequested();
                        using var step = NewDisposeScope();
                        var index = order.narrow(0, b * size, size);
                        var loss = nn.functional.cross_entropy(classifier.Forward(x.index_select(0, index)), labels.index_select(0, index));
                        loss.backward();
                        sgd.Step(lr);
                        total += loss.item<float>();
                    }
                }
                context.Metrics.Log("train_loss", total / batches, epoch);
                context.Metrics.Log("lr", lr, epoch);
                if (options.Select == "best-val")
                {
                    using var scope = NewDisposeScope();
                    var valLabels = context.Features.ValLabels;
                    if (valLabels.shape[0] == 0) throw new InvalidOperationException("cocoop: select 'best-val' needs validation features; the cell has none");
                    double accuracy = classifier.Logits(context.Features.ValFeatures()).argmax(1).eq(valLabels).to(ScalarType.Float64).mean().item<double>();
                    context.Metrics.Log("val_acc", accuracy, epoch);
                    if (accuracy > bestAccuracy)   // Dassl: a strictly better epoch replaces the best
                    {
                        bestAccuracy = accuracy;
                        if (best is not null) foreach (var t in best) t.Dispose();
                        best = parameters.Select(p => p.detach().clone().DetachFromDisposeScope()).ToArray();
                    }
                }
            }
            if (best is not null)
            {
                using var noGrad = no_grad();
                for (int i = 0; i < parameters.Count; i++) parameters[i].copy_(best[i]);
            }
        }
        finally
        {
            if (best is not null) foreach (var t in best) t.Dispose();
        }
    }
}
