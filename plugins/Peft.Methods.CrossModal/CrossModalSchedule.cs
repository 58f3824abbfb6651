using static TorchSharp.torch;

namespace Peft.Methods.CrossModal;

/// <summary>The official training protocol's arithmetic: learning rate per iteration, valid batch sizes, batch orders.</summary>
public static class CrossModalSchedule
{
    /// <summary>
    /// The learning rate every iteration trains with under the official scheduler (engine/optimizer/scheduler.py
    /// <c>LinearWarmupScheduler(CosineAnnealingLR(optimizer, T_max = iterations), warmup, min_lr)</c>, stepped after each
    /// iteration). Traced through PyTorch's <c>_LRScheduler</c>: constructing the warm-up wrapper steps it once, so
    /// iteration 0 runs at <paramref name="warmupLr"/>; iteration i &lt; W at lr·i/W; iteration W at lr (the wrapper
    /// hands over the cosine's last value, its epoch 0); iteration W + k at the cosine's epoch k, which PyTorch computes
    /// recursively from the optimiser's current value (its "chainable" form): lr_k = (1 + cos(πk/T)) / (1 + cos(π(k−1)/T))
    /// · lr_{k−1} — written the same way here, so the values agree with PyTorch's to the last bit (the closed form
    /// lr·(1 + cos(πk/T))/2 differs by rounding). Without warm-up the cosine runs from iteration 0.
    /// </summary>
    public static double[] LearningRates(int iterations, double lr, int warmupIterations, double warmupLr)
    {
        var rates = new double[iterations];
        double T = iterations;                      // CosineAnnealingLR(optimizer, float(max_iter))
        double cosine = lr;                         // the cosine's epoch 0: the optimiser's initial lr
        for (int i = 0; i < iterations; i++)
        {
            if (i < warmupIterations)
                rates[i] = i == 0 ? warmupLr : lr * i / warmupIterations;   // LinearWarmupScheduler.get_lr
            else
            {
                int k = i - warmupIterations;       // the cosine's last_epoch
                if (k > 0)                          // CosineAnnealingLR.get_lr, chainable form (eta_min 0)
                    cosine = (1 + Math.Cos(Math.PI * k / T)) / (1 + Math.Cos(Math.PI * (k - 1) / T)) * (cosine - 0.0) + 0.0;
                rates[i] = cosine;
            }
        }
        return rates;
    }

    /// <summary>The text and image shares of a batch (train.py: text = int(batch · 0.5) cross-modal, 0 uni-modal).</summary>
    public static (int Text, int Image) Split(int batchSize, bool crossModal)
    {
        int text = crossModal ? (int)(batchSize * CrossModalOptions.CrossModalBatchRatio) : 0;
        return (text, batchSize - text);
    }

    /// <summary>
    /// train.py <c>get_valid_batch_sizes</c>: a batch size is run only when its text share is 0 or strictly smaller than
    /// the number of text features, and its image share 0 or strictly smaller than the number of image training features.
    /// </summary>
    public static IReadOnlyList<int> ValidBatchSizes(IEnumerable<int> batchSizes, long textCount, long imageCount, bool crossModal) =>
        batchSizes.Where(b =>
        {
            var (text, image) = Split(b, crossModal);
            return (text == 0 || text < textCount) && (image == 0 || image < imageCount);
        }).ToList();

    /// <summary>
    /// A shuffled, drop_last, restarting loader's row order (train.py's DataLoader(shuffle=True, drop_last=True), re-made
    /// with iter() when exhausted): a permutation of the rows is drawn from the generator at the first batch of every
    /// pass, and a pass gives ⌊count / batch⌋ batches.
    /// </summary>
    internal sealed class RestartingLoader(long count, int batch, Generator generator, List<long[]>? drawn)
    {
        long[]? _order;
        long _position;

        /// <summary>Writes the next batch's row indices (plus <paramref name="offset"/>) into <paramref name="destination"/>.</summary>
        public void Next(Span<long> destination, long offset)
        {
            if (_order is null || _position + batch > count)
            {
                using var perm = randperm(count, generator: generator);
                _order = perm.data<long>().ToArray();
                drawn?.Add(_order);
                _position = 0;
            }
            for (int j = 0; j < batch; j++) destination[j] = _order[_position + j] + offset;
            _position += batch;
        }
    }
}
