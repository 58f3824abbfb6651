using Peft.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Peft.Methods.TaskRes;

/// <summary>
/// TaskRes (Yu et al., CVPR 2023; geekyutao/TaskRes trainers/taskres.py), regular base: the zero-shot classifier's
/// class weights t (the mean over the prompts of the text tower's unnormalised features) plus a residual x scaled by α,
/// x the only trainable tensor, initialised at zero. Trained in the Dassl loop the official trainer runs in:
/// cross-entropy on exp(logit_scale)·cos(f, t + αx), Adam with Dassl's L2 weight decay, one constant warm-up epoch then
/// a per-epoch cosine, shuffled mini-batches (drop_last only when N ≥ batch size), the last epoch kept.
/// <para>
/// Augmentation: the official code re-augments and re-encodes every image each epoch; here epoch e trains on cached
/// augmented view (e mod <see cref="TaskResOptions.TrainViews"/>) of every image, as CLIP-Adapter and Tip-Adapter-F do.
/// </para>
/// </summary>
public sealed class TaskRes(TaskResOptions options) : IAdaptationMethod
{
    public IFeatureClassifier Fit(AdaptationContext context)
    {
        var templates = PromptTemplates.Resolve(options.Templates, context.Task.Templates);
        Tensor baseFeatures;
        using (var scope = NewDisposeScope())
            baseFeatures = TextClassifier.Embeddings(context.TextEncoder, context.Tokenizer, context.Task.ClassNames, templates)
                .mean([1]).MoveToOuterDisposeScope();   // torch.stack(text_embeddings).mean(1)
        var classifier = new TaskResClassifier(baseFeatures, options.Scale, context.TextEncoder.LogitScale);
        try
        {
            Train(classifier, context);
            return classifier;
        }
        catch
        {
            classifier.Dispose();
            throw;
        }
    }

    /// <summary>Learning rate of an epoch: Dassl's constant warm-up around a per-epoch cosine.</summary>
    public static double LearningRate(int epoch, int epochs, TaskResOptions options) =>
        DasslSchedule.LearningRate(epoch, epochs, options.Lr, options.WarmupEpochs, options.WarmupLr);

    void Train(TaskResClassifier classifier, AdaptationContext context)
    {
        int epochs = options.EpochsFor(context.Task.Shots);
        // dassl/optim/optimizer.py: torch.optim.Adam(params, lr, weight_decay, betas=(ADAM_BETA1, ADAM_BETA2))
        using var optimizer = new Peft.Core.Optimization.Adam(classifier.Residual, options.Betas[0], options.Betas[1], weightDecay: options.WeightDecay);
        var views = context.Features.TrainViews(options.TrainViews);   // [V, N, D]
        var labels = context.Features.TrainLabels;
        long n = labels.shape[0];
        int batches = DasslSchedule.BatchesPerEpoch(n, options.BatchSize);
        bool bestVal = options.Select == "best-val";
        double bestAccuracy = double.NegativeInfinity;
        Tensor? best = null;
        try
        {
            for (int epoch = 0; epoch < epochs; epoch++)
            {
                context.Cancellation.ThrowIfCancellationRequested();
                double lr = LearningRate(epoch, epochs, options);
                double lossSum = 0;
                using (var epochScope = NewDisposeScope())
                {
                    var x = views[epoch % options.TrainViews];
                    var order = randperm(n, generator: context.Generator);   // RandomSampler
                    for (int b = 0; b < batches; b++)
                    {
                        using var batchScope = NewDisposeScope();
                        long start = (long)b * options.BatchSize, size = Math.Min(options.BatchSize, n - start);
                        var index = order.narrow(0, start, size);
                        var loss = nn.functional.cross_entropy(classifier.Forward(x.index_select(0, index)), labels.index_select(0, index));
                        optimizer.ZeroGrad();
                        loss.backward();
                        optimizer.Step(lr);
                        lossSum += loss.item<float>();
                    }
                }
                context.Metrics.Log("train/loss", lossSum / batches, epoch);
                context.Metrics.Log("train/lr", lr, epoch);
                if (bestVal)
                {
                    double accuracy = ValAccuracy(classifier, context);
                    context.Metrics.Log("val/accuracy", accuracy, epoch);
                    if (accuracy > bestAccuracy)   // Dassl: a strictly better epoch replaces the best
                    {
                        bestAccuracy = accuracy;
                        best?.Dispose();
                        using var noGrad = no_grad();
                        best = classifier.Residual.detach().clone();
                    }
                }
            }
            if (best is not null)
            {
                using var noGrad = no_grad();
                classifier.Residual.copy_(best);
            }
        }
        finally
        {
            best?.Dispose();
        }
    }

    static double ValAccuracy(TaskResClassifier classifier, AdaptationContext context)
    {
        using var scope = NewDisposeScope();
        var labels = context.Features.ValLabels;
        if (labels.shape[0] == 0) throw new InvalidOperationException("taskres: select 'best-val' needs validation features; the cell has none");
        return classifier.Logits(context.Features.ValFeatures()).argmax(1).eq(labels).to(ScalarType.Float64).mean().item<double>();
    }
}
