using Peft.Core.Prompting;
using static TorchSharp.torch;

namespace Peft.Core.Encoders;

/// <summary>The optimiser and schedule of a Dassl trainer (SGD with momentum, constant warm-up, per-epoch cosine).</summary>
public sealed record DasslTrainingSettings(int Epochs, int BatchSize, double Lr, double Momentum, double WeightDecay, int WarmupEpochs, double WarmupLr);

/// <summary>
/// Dassl's TrainerX loop over the cell's augmented images, as the MaPLe repository's VPT and MaPLe trainers run it: a
/// fresh order per epoch from the cell's generator (view = epoch), Dassl's drop_last rule, cross-entropy of the logits
/// the method computes for each batch, SGD over <paramref name="parameters"/> at the epoch's learning rate; the last
/// state is the result. Call it with the method's adaptation applied.
/// </summary>
public static class DasslTraining
{
    /// <param name="logits">Logits [B, C] of the batch (training image indices) at the epoch, with gradients.</param>
    public static void Run(EncoderAdaptationContext context, IReadOnlyList<Tensor> parameters, DasslTrainingSettings settings,
        Func<long[], int, Tensor> logits)
    {
        int n = context.Train.Count;
        if (n == 0) throw new ArgumentException("the cell has no training images");
        using var sgd = new Sgd(parameters, settings.Momentum, settings.WeightDecay);
        using var labels = context.Train.Labels.to(ScalarType.Int64);
        int batches = DasslSchedule.BatchesPerEpoch(n, settings.BatchSize);
        for (int epoch = 0; epoch < settings.Epochs; epoch++)
        {
            double lr = DasslSchedule.LearningRate(epoch, settings.Epochs, settings.Lr, settings.WarmupEpochs, settings.WarmupLr);
            using var order = randperm(n, generator: context.Generator);
            var indices = order.data<long>().ToArray();
            double lossSum = 0;
            for (int b = 0; b < batches; b++)
            {
                context.Cancellation.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var batch = indices[(b * settings.BatchSize)..Math.Min(n, (b + 1) * settings.BatchSize)];
                var loss = nn.functional.cross_entropy(logits(batch, epoch), labels.index(tensor(batch)));
                loss.backward();
                sgd.Step(lr); // zeroes the gradients after the step
                lossSum += loss.item<float>();
            }
            context.Metrics.Log("train/loss", lossSum / batches, epoch + 1);
            context.Metrics.Log("train/lr", lr, epoch + 1);
        }
    }
}
