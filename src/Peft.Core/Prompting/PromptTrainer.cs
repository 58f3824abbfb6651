using static TorchSharp.torch;

namespace Peft.Core.Prompting;

/// <summary>
/// One prompt-learning optimisation (CoOp's, and KgCoOp's with its regulariser in the loss): shuffled mini-batches,
/// the text features of all classes from the learner, a loss of (text features [C, E] unnormalised, normalised image
/// features [B, E], labels [B]), SGD with torch.optim.SGD semantics on the context.
/// </summary>
public sealed class PromptTrainer(PromptLearner learner, IPromptTrainingSettings options, Func<Tensor, Tensor, Tensor, Tensor> loss) : IDisposable
{
    readonly Sgd _sgd = new([learner.Ctx], options.Momentum, options.WeightDecay);

    public void Dispose() => _sgd.Dispose();

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
        double value;
        if (chunk >= classes)
        {
            var l = Loss(learner.Encode(0, classes), images, labels);
            l.backward();
            value = l.item<float>();
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
            value = l.item<float>();
            var upstream = text.grad!;
            for (int s = 0; s < classes; s += chunk)
            {
                int c = Math.Min(chunk, classes - s);
                using var chunkScope = NewDisposeScope();
                (learner.Encode(s, c) * upstream.narrow(0, s, c)).sum().backward();
            }
        }
        _sgd.Step(lr);
        return value;
    }

    Tensor Loss(Tensor textFeatures, Tensor images, Tensor labels) => loss(textFeatures, images, labels);

    /// <summary>CoOp's loss: cross-entropy of exp(logit_scale)·cos(image, text).</summary>
    public static Func<Tensor, Tensor, Tensor, Tensor> CrossEntropy(float logitScale) => (textFeatures, images, labels) =>
        nn.functional.cross_entropy(images.matmul(nn.functional.normalize(textFeatures, dim: -1).t()) * logitScale, labels);

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
