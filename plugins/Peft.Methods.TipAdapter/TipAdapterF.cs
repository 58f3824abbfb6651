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
/// epoch; (2) by default the kept keys are those of the last epoch or of the best validation epoch, not the best test
/// epoch; (3) float32 instead of CLIP's fp16 (<c>precision: bf16</c> trains in bf16 with fp32 keys); (4) by default the α/β search uses the cell's validation
/// features. <c>select: best-test</c>, <c>searchOn</c> and <c>maxBestFinal</c> restore (2) and (4) under the
/// experiment's as-published protocol.
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
            if (options.MaxBestFinal) (alpha, beta) = MaxBestFinal(options, context, clipWeights, keys, values, alpha, beta);
            return new TipAdapterClassifier(clipWeights, keys, values, alpha, beta, options.LogitScale, keys.numel());
        }
        catch
        {
            clipWeights.Dispose();
            values.Dispose();
            throw;
        }
    }

    /// <summary>
    /// main.py's reported result max(best_acc, acc): best_acc is the kept epoch's test accuracy at init α/β, acc the test
    /// accuracy after the α/β search; returning the pair with the higher test accuracy makes the host's test evaluation
    /// equal that maximum (ties keep the searched pair).
    /// </summary>
    static (double Alpha, double Beta) MaxBestFinal(TipAdapterFOptions options, AdaptationContext context, Tensor clipWeights, Tensor keys,
        Tensor values, double alpha, double beta)
    {
        var oracle = context.Oracle ?? throw new InvalidOperationException(
            "tip-adapter-f: maxBestFinal compares test accuracies; it needs the experiment setting protocol: \"as-published\"");
        long atInit = TipCache.CorrectOn(oracle.TestFeatures(), oracle.TestLabels, clipWeights, keys, values, options.InitAlpha, options.InitBeta, options.LogitScale);
        long searched = TipCache.CorrectOn(oracle.TestFeatures(), oracle.TestLabels, clipWeights, keys, values, alpha, beta, options.LogitScale);
        bool init = atInit > searched;
        context.Metrics.Log("tip-adapter-f/max_best_final_kept_init", init ? 1 : 0);
        return init ? (options.InitAlpha, options.InitBeta) : (alpha, beta);
    }

    /// <summary>What training produced: the kept keys [N, D], the mean loss of each epoch, the learning rate used at each iteration.</summary>
    internal sealed record TrainResult(Tensor Keys, IReadOnlyList<double> EpochLosses, IReadOnlyList<double> LearningRates, int SelectedEpoch);

    /// <summary>Fine-tunes a copy of <paramref name="initialKeys"/> [N, D]; logs train_loss (and the selection accuracy for best-val / best-test) per epoch.</summary>
    internal static TrainResult Train(TipAdapterFOptions options, AdaptationContext context, Tensor clipWeights, Tensor initialKeys, Tensor values)
    {
        using var trainScope = NewDisposeScope();   // everything but the kept keys is freed on return
        var g = context.Generator;
        var labels = context.Features.TrainLabels.to(ScalarType.Int64);
        long n = labels.shape[0];
        int iterations = (int)((n + options.BatchSize - 1) / options.BatchSize);   // DataLoader drop_last=False
        double alpha = options.InitAlpha, beta = options.InitBeta, scale = options.LogitScale;
        // precision bf16: the features and a per-step bf16 copy of the keys meet in bf16 products; the keys stay fp32
        var compute = Peft.Core.Optimization.TrainingPrecision.ComputeType(options.Precision);
        Tensor Affinity(Tensor f, Tensor keys) => f.matmul(keys.to(compute).t()).to(ScalarType.Float32);   // fp32: no casts

        // adapter.weight = nn.Parameter(cache_keys.t()): weight [N, D] = the keys, adapter(x) = x · Kᵀ (no renormalisation)
        var weight = new TorchSharp.Modules.Parameter(initialKeys.detach().clone(), requires_grad: true);
        var optimizer = optim.AdamW([weight], lr: options.LearningRate, eps: options.Eps, weight_decay: options.WeightDecay);
        var scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, options.Epochs * iterations);

        // Epoch selection data: the cell's validation features (best-val) or, as published, the test set (best-test).
        Tensor? selFeatures = null, selClipLogits = null, selLabels = null, bestKeys = null;
        long bestCorrect = 0;
        int selected = options.Epochs - 1;
        string selMetric = options.Select == "best-test" ? "epoch_test_accuracy" : "epoch_val_accuracy";
        if (options.Select != "last")
        {
            if (options.Select == "best-test")
            {
                var oracle = context.Oracle ?? throw new InvalidOperationException(
                    "tip-adapter-f: select 'best-test' keeps the epoch with the best test accuracy; it needs the experiment setting protocol: \"as-published\"");
                (selFeatures, selLabels) = (oracle.TestFeatures(), oracle.TestLabels);
            }
            else (selFeatures, selLabels) = (context.Features.ValFeatures(), context.Features.ValLabels);
            if (selLabels.shape[0] == 0)
                throw new InvalidOperationException($"tip-adapter-f: select '{options.Select}' needs {(options.Select == "best-val" ? "validation" : "test")} features; the cell has none");
            using var noGrad = no_grad();
            selFeatures = nn.functional.normalize(selFeatures.to(ScalarType.Float32), dim: -1);
            selClipLogits = selFeatures.matmul(clipWeights.t()) * scale;
            selFeatures = selFeatures.to(compute);
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
                        features = features.to(compute);
                    }
                    var order = randperm(n, generator: g);
                    for (int it = 0; it < iterations; it++)
                    {
                        using var step = NewDisposeScope();
                        var index = order.narrow(0, it * (long)options.BatchSize, Math.Min(options.BatchSize, n - it * (long)options.BatchSize));
                        var f = features.index_select(0, index);
                        var affinity = Affinity(f, weight);
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

                if (selFeatures is not null)
                {
                    using var noGrad = no_grad();
                    using var scope = NewDisposeScope();
                    var logits = selClipLogits! + TipCache.CacheLogits(Affinity(selFeatures, weight), values, beta) * alpha;
                    long correct = TipCache.Correct(logits, selLabels!);
                    context.Metrics.Log($"tip-adapter-f/{selMetric}", (double)correct / selFeatures.shape[0], epoch);
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
