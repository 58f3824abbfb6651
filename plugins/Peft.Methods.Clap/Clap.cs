using Peft.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Peft.Methods.Clap;

/// <summary>
/// CLAP (Silva-Rodríguez et al., CVPR 2024; jusiro/CLAP trainers/adapters.py): a linear probe whose class prototypes
/// start at the zero-shot prototypes (ZS-LP) and, with the class-adaptive constraint, are pulled back towards them
/// with per-class weights set by zero-shot performance (<see cref="ClassAdaptiveConstraint"/>). Trained as the official
/// <c>TrainerXCostume.run_epoch</c> does: SGD with momentum, one constant warm-up epoch then a per-epoch cosine, the
/// last epoch kept (no validation: the paper's protocol).
/// <para>
/// Features: the official trainer encodes <see cref="ClapOptions.AugmentViews"/> augmented passes over the support
/// set once (random_resized_crop + flip), pools them, and every epoch shuffles the whole pool and trains on the first
/// <c>len(train_loader_x)</c> batches of it (Dassl's loader length for the N images). Here the pool is the cached
/// augmented views [V, N, D], view-major, shuffled with <c>randperm</c> from the cell's generator — the same
/// computation on cached views, not the per-epoch view cycling of CLIP-Adapter and TaskRes.
/// </para>
/// </summary>
public sealed class Clap(ClapOptions options) : IAdaptationMethod
{
    public IFeatureClassifier Fit(AdaptationContext context)
    {
        var templates = PromptTemplates.Resolve(options.Templates, context.Task.Templates);
        Tensor zeroShot;
        using (var scope = NewDisposeScope())
            zeroShot = TextClassifier.Embeddings(context.TextEncoder, context.Tokenizer, context.Task.ClassNames, templates)
                .mean([1]).MoveToOuterDisposeScope();   // torch.stack(text_embeddings).mean(1)
        var classifier = new ClapClassifier(zeroShot, context.TextEncoder.LogitScale);
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
    public static double LearningRate(int epoch, ClapOptions options) =>
        DasslSchedule.LearningRate(epoch, options.Epochs, options.Lr, options.WarmupEpochs, options.WarmupLr);

    void Train(ClapClassifier classifier, AdaptationContext context)
    {
        using var scope = NewDisposeScope();
        var views = context.Features.TrainViews(options.AugmentViews);   // [V, N, D]
        var labels = context.Features.TrainLabels;
        long n = labels.shape[0];
        var pool = views.reshape(-1, views.shape[2]);                       // pass r = rows r·N … r·N + N − 1
        var poolLabels = labels.repeat(options.AugmentViews);
        long poolSize = pool.shape[0];
        int batches = DasslSchedule.BatchesPerEpoch(n, options.BatchSize);  // len(train_loader_x): the N images

        if (options.Constraint == "l2")
        {
            classifier.Multipliers = ClassAdaptiveConstraint.Multipliers(classifier.Logits(pool), poolLabels, context.Task.NumClasses)
                .MoveToOuterDisposeScope();
            context.Metrics.Log("constraint/mean_multiplier", classifier.Multipliers.mean().item<float>());
        }

        // dassl/optim/optimizer.py: torch.optim.SGD(params, lr, momentum, weight_decay, dampening 0, nesterov False)
        using var optimizer = optim.SGD([classifier.Prototypes], options.Lr, momentum: options.Momentum, weight_decay: options.WeightDecay);
        for (int epoch = 0; epoch < options.Epochs; epoch++)
        {
            context.Cancellation.ThrowIfCancellationRequested();
            double lr = LearningRate(epoch, options);
            foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
            double lossSum = 0;
            using (var epochScope = NewDisposeScope())
            {
                var order = randperm(poolSize, generator: context.Generator);   // np.random.rand(P).argsort()
                for (int b = 0; b < batches; b++)
                {
                    using var batchScope = NewDisposeScope();
                    long start = (long)b * options.BatchSize, size = Math.Min(options.BatchSize, poolSize - start);
                    var index = order.narrow(0, start, size);
                    var loss = nn.functional.cross_entropy(classifier.Forward(pool.index_select(0, index)), poolLabels.index_select(0, index));
                    if (classifier.Multipliers is { } multipliers)
                        loss = loss + ClassAdaptiveConstraint.Penalty(classifier.Prototypes, classifier.ZeroShot, multipliers);
                    optimizer.zero_grad();
                    loss.backward();
                    optimizer.step();
                    lossSum += loss.item<float>();
                }
            }
            context.Metrics.Log("train/loss", lossSum / batches, epoch);
            context.Metrics.Log("train/lr", lr, epoch);
        }
    }
}
