namespace Peft.Core;

/// <summary>
/// The training protocol CoOp and CLIP-Adapter share through Dassl (configs/trainers/CoOp/*.yaml + Dassl defaults):
/// epochs by shot count, the constant warm-up around a per-epoch cosine, and Dassl's drop_last rule.
/// </summary>
public static class DasslSchedule
{
    /// <summary>CoOp's epochs per shot count (COOP.md run commands): 1 → 50, 2 and 4 → 100, 8 and more → 200.</summary>
    public static int EpochsForShots(int shots) => shots <= 1 ? 50 : shots <= 4 ? 100 : 200;

    /// <summary>
    /// Learning rate of epoch <paramref name="epoch"/> (0-based) under Dassl's ConstantWarmupScheduler around
    /// CosineAnnealingLR(T_max = <paramref name="epochs"/>), stepped once per epoch, WARMUP_RECOUNT: warm-up epochs run
    /// at <paramref name="warmupLr"/>, then lr·(1 + cos(π(e − W)/E))/2.
    /// </summary>
    public static double LearningRate(int epoch, int epochs, double lr, int warmupEpochs, double warmupLr) =>
        epoch < warmupEpochs ? warmupLr : 0.5 * lr * (1 + Math.Cos(Math.PI * (epoch - warmupEpochs) / epochs));

    /// <summary>Problems with the optimiser settings these methods share (SGD with momentum, warm-up), each naming the option.</summary>
    public static IEnumerable<string> ValidateOptimizer(int batchSize, double lr, double momentum, double weightDecay, int warmupEpochs, double warmupLr)
    {
        if (batchSize < 1) yield return $"batchSize must be ≥ 1, got {batchSize}";
        if (!(lr > 0)) yield return $"lr must be > 0, got {lr}";
        if (!(momentum >= 0 && momentum < 1)) yield return $"momentum must be in [0, 1), got {momentum}";
        if (!(weightDecay >= 0)) yield return $"weightDecay must be ≥ 0, got {weightDecay}";
        if (warmupEpochs < 0) yield return $"warmupEpochs must be ≥ 0, got {warmupEpochs}";
        if (!(warmupLr > 0)) yield return $"warmupLr must be > 0, got {warmupLr}";
    }

    /// <summary>Mini-batches per epoch: Dassl drops the last incomplete batch only when N ≥ batch size.</summary>
    public static int BatchesPerEpoch(long n, int batchSize) => n >= batchSize ? (int)(n / batchSize) : (n > 0 ? 1 : 0);
}
