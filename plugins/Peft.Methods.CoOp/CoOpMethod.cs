using Peft.Core;
using static TorchSharp.torch;

namespace Peft.Methods.CoOp;

/// <summary>
/// CoOp (Zhou et al., "Learning to Prompt for Vision-Language Models", IJCV 2022; KaiyangZhou/CoOp trainers/coop.py):
/// M learned context vectors replace the hand-written template; the frozen CLIP text tower encodes
/// [SOS][ctx][class . EOT], logits = exp(logit_scale)·cos(image, text), cross-entropy, SGD on the context only.
/// </summary>
/// <remarks>
/// Differences from the official code, all without effect on the objective: training runs in fp32 (the official
/// default <c>PREC</c> is fp16); image features come from the cached augmented views (epoch e uses view e mod V)
/// instead of re-encoding freshly augmented images each epoch; the sequence is truncated to the longest prompt
/// (exact under the causal mask); classes go through the text tower in chunks (exact gradient, see <see cref="Trainer.Step"/>).
/// </remarks>
public sealed class CoOpMethod(CoOpOptions options) : IAdaptationMethod
{
    public IFeatureClassifier Fit(AdaptationContext context)
    {
        using var learner = new PromptLearner(context.TextEncoder, context.Tokenizer, context.Task.ClassNames, options, context.Generator);
        using var trainer = new Trainer(learner, options, context.TextEncoder.LogitScale);
        int epochs = options.EpochsFor(context.Task.Shots);
        var views = context.Features.TrainViews(options.TrainViews);
        var labels = context.Features.TrainLabels.to(ScalarType.Int64);

        Tensor? best = null;
        double bestAcc = double.NegativeInfinity;
        try
        {
            for (int epoch = 0; epoch < epochs; epoch++)
            {
                double lr = Schedule.LearningRate(epoch, epochs, options);
                using var view = views[epoch % views.shape[0]];
                double loss = trainer.Epoch(view, labels, lr, context.Generator, context.Cancellation);
                context.Metrics.Log("train_loss", loss, epoch);
                context.Metrics.Log("lr", lr, epoch);
                if (options.Select == "best-val")
                {
                    double acc = trainer.Accuracy(context.Features.ValFeatures(), context.Features.ValLabels);
                    context.Metrics.Log("val_acc", acc, epoch);
                    if (acc > bestAcc)  // Dassl: is_best = curr_result > best_result (first best epoch wins ties)
                    {
                        bestAcc = acc;
                        best?.Dispose();
                        best = learner.Ctx.detach().clone();
                    }
                }
            }
            if (best is not null)
            {
                using var noGrad = no_grad();
                learner.Ctx.copy_(best);
            }
            var text = learner.TextFeatures(options.ClassChunk);
            return new CoOpClassifier(text, context.TextEncoder.LogitScale, learner.Ctx.detach().clone());
        }
        finally
        {
            best?.Dispose();
        }
    }
}

/// <summary>CoOp's learning rate per epoch: <see cref="DasslSchedule.LearningRate"/> with its options.</summary>
static class Schedule
{
    public static double LearningRate(int epoch, int epochs, CoOpOptions o) =>
        DasslSchedule.LearningRate(epoch, epochs, o.Lr, o.WarmupEpochs, o.WarmupLr);
}

/// <summary>One CoOp optimisation: forward over all classes, cross-entropy, SGD (torch.optim.SGD semantics) on the context.</summary>
sealed class Trainer(PromptLearner learner, CoOpOptions options, float logitScale) : IDisposable
{
    Tensor? _momentum;

    public void Dispose() => _momentum?.Dispose();

    /// <summary>One epoch over the (shuffled) training set; returns the mean batch loss.</summary>
    public double Epoch(Tensor viewFeatures, Tensor labels, double lr, Generator generator, CancellationToken cancellation)
    {
        using var scope = NewDisposeScope();
        var images = nn.functional.normalize(viewFeatures.to(ScalarType.Float32), dim: -1);
        long n = labels.shape[0], b = options.BatchSize;
        var order = randperm(n, generator: generator);  // RandomSampler
        long batches = DasslSchedule.BatchesPerEpoch(n, (int)b), size = Math.Min(n, b);
        double total = 0;
        for (long i = 0; i < batches; i++)
        {
            cancellation.ThrowIfCancellationRequested();
            using var batchScope = NewDisposeScope();
            var idx = order.narrow(0, i * size, size);
            total += Step(images.index_select(0, idx), labels.index_select(0, idx), lr);
        }
        return total / batches;
    }

    /// <summary>
    /// Loss of one batch (normalised image features [B, E]) and one SGD step. When the classes do not fit in one
    /// chunk, the text features of all classes are first computed without a graph, the loss is back-propagated to
    /// them, and each chunk is then re-run with a graph and back-propagated with that gradient: the context
    /// gradient is exactly that of the whole-class loss, with memory bounded by one chunk.
    /// </summary>
    public double Step(Tensor images, Tensor labels, double lr)
    {
        using var scope = NewDisposeScope();
        int classes = learner.NumClasses, chunk = options.ClassChunk;
        double loss;
        if (chunk >= classes)
        {
            var l = Loss(learner.Encode(0, classes), images, labels);
            l.backward();
            loss = l.item<float>();
        }
        else
        {
            Tensor text;
            using (no_grad())
            {
                var parts = new List<Tensor>();
                for (int s = 0; s < classes; s += chunk) parts.Add(learner.Encode(s, Math.Min(chunk, classes - s)));
                text = cat(parts, 0);
            }
            text.requires_grad_(true);
            var l = Loss(text, images, labels);
            l.backward();
            loss = l.item<float>();
            var upstream = text.grad!;
            for (int s = 0; s < classes; s += chunk)
            {
                int c = Math.Min(chunk, classes - s);
                using var chunkScope = NewDisposeScope();
                (learner.Encode(s, c) * upstream.narrow(0, s, c)).sum().backward();
            }
        }
        Sgd(lr);
        return loss;
    }

    Tensor Loss(Tensor textFeatures, Tensor images, Tensor labels)
    {
        var text = nn.functional.normalize(textFeatures, dim: -1);
        var logits = images.matmul(text.t()) * logitScale;
        return nn.functional.cross_entropy(logits, labels);
    }

    /// <summary>torch.optim.SGD (dampening 0, no Nesterov): d = g + wd·p; buf = d (first step) or m·buf + d; p −= lr·buf.</summary>
    void Sgd(double lr)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var ctx = learner.Ctx;
        var grad = ctx.grad!;
        var d = grad + ctx * options.WeightDecay;
        if (_momentum is null)
        {
            _momentum = d.detach().clone().DetachFromDisposeScope();
        }
        else _momentum.mul_(options.Momentum).add_(d);
        ctx.sub_(_momentum * lr);
        grad.zero_();
    }

    /// <summary>Top-1 accuracy of the current context on features [M, D] with labels [M].</summary>
    public double Accuracy(Tensor features, Tensor labels)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        if (labels.shape[0] == 0) return 0;
        var text = learner.TextFeatures(options.ClassChunk);
        var pred = nn.functional.normalize(features.to(ScalarType.Float32), dim: -1).matmul(text.t()).argmax(-1);
        return pred.eq(labels.to(ScalarType.Int64)).to(ScalarType.Float32).mean().item<float>();
    }
}

/// <summary>The trained CoOp head: logits = exp(logit_scale)·normalise(f)·Tᵀ with the learned prompts' text features T [C, E].</summary>
sealed class CoOpClassifier(Tensor textFeatures, float scale, Tensor ctx) : IFeatureClassifier
{
    public long TrainableParameters => ctx.numel();
    public IReadOnlyDictionary<string, Tensor> Weights { get; } =
        new Dictionary<string, Tensor> { ["ctx"] = ctx, ["text_features"] = textFeatures };

    public Tensor Logits(Tensor imageFeatures)
    {
        using var scope = NewDisposeScope();
        var f = nn.functional.normalize(imageFeatures.to(ScalarType.Float32), dim: -1);
        return (f.matmul(textFeatures.t()) * scale).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        textFeatures.Dispose();
        ctx.Dispose();
    }
}
