using Peft.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Peft.Methods.TipAdapter;

/// <summary>
/// Tip-Adapter-F (gaopengcuhk/Tip-Adapter main.py run_tip_adapter_F): the cache keys become a trainable bias-free
/// linear map initialised from the Tip-Adapter keys; trained with cross-entropy on the Tip-Adapter logits (α, β at
/// their init values), AdamW and a per-iteration cosine schedule; then α, β are re-searched on validation features.
/// </summary>
/// <remarks>
/// Differences from the official code: (1) training batches are cached augmented views, epoch e using view
/// (e mod <see cref="TipAdapterFOptions.TrainViews"/>) of each image, instead of freshly augmented images re-encoded each
/// epoch; (2) the kept keys are those of the last epoch or of the best validation epoch, never the best test epoch;
/// (3) float32 throughout instead of CLIP's fp16; (4) the α/β search uses the cell's validation features.
/// </remarks>
public sealed class TipAdapterF(TipAdapterFOptions options) : IAdaptationMethod
{
    public IFeatureClassifier Fit(AdaptationContext context)
    {
        Tensor clipWeights, initialKeys, values, keys;
        using (no_grad())
        {
            clipWeights = TipCache.ClipWeights(context, options.Templates);
            using (var scope = NewDisposeScope())
                initialKeys = TipCache.Keys(context.Features.TrainViews(options.AugmentViews)).MoveToOuterDisposeScope();
            values = TipCache.Values(context.Features.TrainLabels, context.Task.NumClasses);
        }
        try
        {
            using (initialKeys)
                keys = Train(options, context, clipWeights, initialKeys, values).Keys;
            var (beta, alpha) = TipCache.Choose(options, context, clipWeights, keys, values, "tip-adapter-f");
            return new TipAdapterClassifier(clipWeights, keys, values, alpha, beta, options.LogitScale, keys.numel());
        }
        catch
        {
            clipWeights.Dispose();
            values.Dispose();
            throw;
        }
    }

    /// <summary>What training produced: the kept keys [N, D], the mean loss of each epoch, the learning rate used at each iteration.</summary>
    internal sealed record TrainResult(Tensor Keys, IReadOnlyList<double> EpochLosses, IReadOnlyList<double> LearningRates, int SelectedEpoch);

    /// <summary>Fine-tunes a copy of <paramref name="initialKeys"/> [N, D]; logs train_loss (and val_accuracy for best-val) per epoch.</summary>
    internal static TrainResult Train(TipAdapterFOptions options, AdaptationContext context, Tensor clipWeights, Tensor initialKeys, Tensor values)
    {
        using var trainScope = NewDisposeScope();   // everything but the kept keys is freed on return
        var g = context.Generator;
        var labels = context.Features.TrainLabels.to(ScalarType.Int64);
        long n = labels.shape[0];
        int iterations = (int)((n + options.BatchSize - 1) / options.BatchSize);   // DataLoader drop_last=False
        double alpha = options.InitAlpha, beta = options.InitBeta, scale = options.LogitScale;

        // adapter.weight = nn.Parameter(cache_keys.t()): weight [N, D] = the keys, adapter(x) = x · Kᵀ (no renormalisation)
        var weight = new TorchSharp.Modules.Parameter(initialKeys.detach().clone(), requires_grad: true);
        var optimizer = optim.AdamW([weight], lr: options.LearningRate, eps: options.Eps, weight_decay: options.WeightDecay);
        var scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, options.Epochs * iterations);

        Tensor? valFeatures = null, valClipLogits = null, bestKeys = null;
        long bestCorrect = 0;
        int selected = options.Epochs - 1;
        if (options.Select == "best-val")
        {
            if (context.Features.ValLabels.shape[0] == 0)
                throw new InvalidOperationException("tip-adapter-f: select 'best-val' needs validation features; the cell has none");
            using var noGrad = no_grad();
            valFeatures = nn.functional.normalize(context.Features.ValFeatures().to(ScalarType.Float32), dim: -1);
            valClipLogits = valFeatures.matmul(clipWeights.t()) * scale;
        }

        var losses = new List<double>();
        var lrs = new List<double>();
        var views = context.Features.TrainViews(options.TrainViews);
        try
        {
            for (int epoch = 0; epoch < options.Epochs; epoch++)
            {
                context.Cancellation.ThrowIfCancellationRequested();
                double lossSum = 0;
                using (var epochScope = NewDisposeScope())
                {
                    Tensor features, clipLogits;
                    using (no_grad())
                    {
                        features = nn.functional.normalize(views[epoch % options.TrainViews].to(ScalarType.Float32), dim: -1);
                        clipLogits = features.matmul(clipWeights.t()) * scale;   // frozen: 100 · f Wᵀ
                    }
                    var order = randperm(n, generator: g);
                    for (int it = 0; it < iterations; it++)
                    {
                        using var step = NewDisposeScope();
                        var index = order.narrow(0, it * (long)options.BatchSize, Math.Min(options.BatchSize, n - it * (long)options.BatchSize));
                        var f = features.index_select(0, index);
                        var affinity = f.matmul(weight.t());
                        var logits = clipLogits.index_select(0, index) + TipCache.CacheLogits(affinity, values, beta) * alpha;
                        var loss = nn.functional.cross_entropy(logits, labels.index_select(0, index));
                        lossSum += loss.ToDouble();
                        lrs.Add(optimizer.ParamGroups.First().LearningRate);
                        optimizer.zero_grad();
                        loss.backward();
                        optimizer.step();
                        scheduler.step();
                    }
                }
                double meanLoss = lossSum / iterations;
                losses.Add(meanLoss);
                context.Metrics.Log("tip-adapter-f/train_loss", meanLoss, epoch);

                if (valFeatures is not null)
                {
                    using var noGrad = no_grad();
                    using var scope = NewDisposeScope();
                    var logits = valClipLogits! + TipCache.CacheLogits(valFeatures.matmul(weight.t()), values, beta) * alpha;
                    long correct = TipCache.Correct(logits, context.Features.ValLabels);
                    context.Metrics.Log("tip-adapter-f/epoch_val_accuracy", (double)correct / valFeatures.shape[0], epoch);
                    // main.py keeps `if acc > best_acc` (on test); the first epoch is kept when none is better
                    if (bestKeys is null || correct > bestCorrect)
                    {
                        (bestCorrect, selected) = (correct, epoch);
                        bestKeys?.Dispose();
                        bestKeys = weight.detach().clone().MoveToOuterDisposeScope();
                    }
                }
            }
            var kept = (bestKeys ?? weight.detach().clone()).MoveToOuterDisposeScope();
            return new TrainResult(kept, losses, lrs, selected);
        }
        finally
        {
            optimizer.Dispose();
        }
    }
}
