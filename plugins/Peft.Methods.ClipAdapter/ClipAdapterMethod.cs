using Peft.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Peft.Methods.ClipAdapter;

/// <summary>
/// CLIP-Adapter (Gao et al., arXiv 2110.04544; released trainer gaopengcuhk/CLIP-Adapter clip_adapter.py) on cached
/// frozen features. The adapter(s) are the only trainable weights; the text side is the frozen zero-shot classifier
/// of the dataset's template. Training follows the Dassl/CoOp loop the released trainer runs in: cross-entropy, SGD
/// with momentum and weight decay, a constant warm-up then cosine annealing stepped once per epoch, shuffled
/// mini-batches (drop_last only when N ≥ batch size), the last epoch's adapter returned.
/// <para>
/// Augmentation: the released code re-augments (random resized crop + flip) and re-encodes every image each epoch.
/// By default this implementation uses the cached-view equivalent: epoch e trains on cached augmented view
/// (e mod <see cref="ClipAdapterOptions.TrainViews"/>) of every image; <c>trainViews = 1</c> gives no variety.
/// </para>
/// </summary>
public sealed class ClipAdapterMethod(ClipAdapterOptions options) : IAdaptationMethod
{
    public ClipAdapterOptions Options => options;

    /// <summary>Learning rate of an epoch (<see cref="DasslSchedule.LearningRate"/> with this method's options).</summary>
    public static double LearningRate(int epoch, int epochs, ClipAdapterOptions options) =>
        DasslSchedule.LearningRate(epoch, epochs, options.Lr, options.WarmupEpochs, options.WarmupLr);

    public IFeatureClassifier Fit(AdaptationContext context)
    {
        var templates = PromptTemplates.Resolve(options.Templates, context.Task.Templates);
        int dim = context.Features.Dim;
        var g = context.Generator;
        var textWeights = TextClassifier.Build(context.TextEncoder, context.Tokenizer, context.Task.ClassNames, templates);
        // Initialisation order: visual adapter first, then text adapter.
        var visual = options.Branch is "visual" or "both" ? BottleneckAdapter.Initialise(dim, options.Reduction, g) : null;
        var text = options.Branch is "text" or "both" ? BottleneckAdapter.Initialise(dim, options.Reduction, g) : null;
        var (encoder, tokenizer) = (context.TextEncoder, context.Tokenizer);
        var classifier = new ClipAdapterClassifier(textWeights, context.TextEncoder.LogitScale, options.Alpha, visual, text)
        {
            TextWeightsFor = task => TextClassifier.Build(encoder, tokenizer, task.ClassNames, PromptTemplates.Resolve(options.Templates, task.Templates)),
        };
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

    void Train(ClipAdapterClassifier classifier, AdaptationContext context)
    {
        int epochs = options.EpochsFor(context.Task.Shots);
        var parameters = classifier.Parameters.ToList();
        using var optimizer = optim.SGD(parameters, options.Lr, momentum: options.Momentum, weight_decay: options.WeightDecay);
        var views = context.Features.TrainViews(options.TrainViews); // [V, N, D]
        var labels = context.Features.TrainLabels;
        long n = labels.shape[0];
        int batches = DasslSchedule.BatchesPerEpoch(n, options.BatchSize);
        var compute = Peft.Core.Optimization.TrainingPrecision.ComputeType(options.Precision);

        bool bestVal = options.Select == "best-val";
        double bestAccuracy = double.NegativeInfinity;
        List<Tensor>? best = null;
        try
        {
            for (int epoch = 0; epoch < epochs; epoch++)
            {
                context.Cancellation.ThrowIfCancellationRequested();
                double lr = LearningRate(epoch, epochs, options);
                foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;

                double lossSum = 0;
                using (var epochScope = NewDisposeScope())
                {
                    var x = views[epoch % options.TrainViews];
                    var order = randperm(n, generator: context.Generator);
                    for (int b = 0; b < batches; b++)
                    {
                        using var batchScope = NewDisposeScope();
                        long start = (long)b * options.BatchSize, size = Math.Min(options.BatchSize, n - start);
                        var index = order.narrow(0, start, size);
                        var logits = classifier.Forward(x.index_select(0, index), compute);
                        var loss = nn.functional.cross_entropy(logits, labels.index_select(0, index));
                        optimizer.zero_grad();
                        loss.backward();
                        optimizer.step();
                        lossSum += loss.item<float>();
                    }
                }
                context.Metrics.Log("train/loss", lossSum / batches, epoch);
                context.Metrics.Log("train/lr", lr, epoch);

                if (bestVal)
                {
                    double accuracy = ValAccuracy(classifier, context);
                    context.Metrics.Log("val/accuracy", accuracy, epoch);
                    if (accuracy > bestAccuracy) // Dassl: strictly better replaces the best model
                    {
                        bestAccuracy = accuracy;
                        best?.ForEach(t => t.Dispose());
                        using var noGrad = no_grad();
                        best = parameters.Select(p => p.detach().clone()).ToList();
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
            best?.ForEach(t => t.Dispose());
        }
    }

    static double ValAccuracy(ClipAdapterClassifier classifier, AdaptationContext context)
    {
        using var scope = NewDisposeScope();
        var labels = context.Features.ValLabels;
        if (labels.shape[0] == 0) return 0;
        var predicted = classifier.Logits(context.Features.ValFeatures()).argmax(1);
        return predicted.eq(labels).to(ScalarType.Float64).mean().item<double>();
    }
}
