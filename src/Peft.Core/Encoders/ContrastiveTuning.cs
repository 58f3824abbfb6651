using Peft.Core.Optimization;
using TorchSharp;
using static TorchSharp.torch;

namespace Peft.Core.Encoders;

/// <summary>The training recipe of <see cref="ContrastiveTuning"/>; defaults are CLIP-LoRA's (lora.py, run_utils.py).</summary>
public sealed record ContrastiveTuningSettings
{
    /// <summary>AdamW learning rate (CLIP-LoRA <c>--lr</c> = 2e-4), cosine-annealed per iteration to <see cref="MinLr"/>.</summary>
    public double Lr { get; init; } = 2e-4;
    /// <summary>Floor of the cosine schedule (lora.py: <c>CosineAnnealingLR(..., eta_min=1e-6)</c>).</summary>
    public double MinLr { get; init; } = 1e-6;
    /// <summary>AdamW's decoupled weight decay (lora.py: 1e-2), betas (0.9, 0.999), eps 1e-8.</summary>
    public double WeightDecay { get; init; } = 1e-2;
    /// <summary>Total iterations (lora.py: <c>n_iters × shots</c>).</summary>
    public long Iterations { get; init; }
    public int BatchSize { get; init; } = 32;
    /// <summary>Logit scale of the loss and the classifier (CLIP-LoRA main.py: 100).</summary>
    public double LogitScale { get; init; } = 100;
    /// <summary>Whether gradients flow through the image tower (false: its features are computed without them).</summary>
    public bool TrainImageTower { get; init; } = true;
    /// <summary>The prompt template (<c>{}</c> = the class name); null: the dataset's first template (CLIP-LoRA's choice).</summary>
    public string? Template { get; init; }
    /// <summary>Whether the class prompts go through the adapted text tower at every iteration (false: encoded once, frozen).</summary>
    public bool TrainTextTower { get; init; } = true;
}

/// <summary>
/// CLIP-LoRA's training loop, shared by encoder-level methods that train deltas of a <see cref="TowerAdaptation"/> with it
/// (lora.py <c>run_lora</c>): each iteration encodes one prompt per class (the dataset's first template) with the adapted
/// text tower and a batch of augmented images (view = epoch; a fresh order per epoch from the cell's generator; the last
/// batch of an epoch may be smaller) with the adapted image tower, and minimises cross-entropy of logit scale · cosine
/// similarity with AdamW under a per-iteration cosine schedule. The last state is the result (the official loop has no
/// validation). Returns the adapted text tower's normalised class prompts [C, D], the classifier's weights.
/// </summary>
public static class ContrastiveTuning
{
    /// <param name="training">Switches the deltas' training behaviour (dropout) on before the loop and off after it.</param>
    /// <param name="decayAnchors">Per parameter, the frozen tensor it shifts (or null): weight decay then acts on their sum
    /// (<see cref="Adam"/>'s decay anchor), as when the official code trains that tensor itself.</param>
    public static Tensor Run(EncoderAdaptationContext context, TowerAdaptation adaptation, IReadOnlyList<Tensor> parameters,
        ContrastiveTuningSettings settings, Action<bool>? training = null, IReadOnlyList<Tensor?>? decayAnchors = null)
    {
        var clip = context.Clip;
        var task = context.Task;
        int n = context.Train.Count;
        if (n == 0) throw new ArgumentException("the cell has no training images");
        if (settings.Iterations < 1) throw new ArgumentException($"iterations must be at least 1, got {settings.Iterations}");
        if (decayAnchors is not null && decayAnchors.Count != parameters.Count)
            throw new ArgumentException($"{decayAnchors.Count} decay anchors for {parameters.Count} parameters");
        var optimizers = parameters.Select((p, i) => new Adam(p, 0.9, 0.999, 1e-8, settings.WeightDecay, decoupled: true, decayAnchors?[i])).ToList();
        try
        {
            using var tokens = ClassPrompts(context, settings.Template);
            using var frozenText = settings.TrainTextTower ? null : Normalize(clip.EncodeText(tokens));
            using var labels = context.Train.Labels.to(ScalarType.Int64);
            using Scalar scale = settings.LogitScale;
            long total = settings.Iterations, iteration = 0;
            training?.Invoke(true);
            using var applied = clip.Apply(adaptation);
            for (int epoch = 0; iteration < total; epoch++)
            {
                using var order = randperm(n, generator: context.Generator);
                var indices = order.data<long>().ToArray();
                double lossSum = 0, lr = settings.Lr;
                long correct = 0, seen = 0;
                for (int start = 0; start < n && iteration < total; start += settings.BatchSize)
                {
                    context.Cancellation.ThrowIfCancellationRequested();
                    using var scope = NewDisposeScope();
                    var batch = indices[start..Math.Min(n, start + settings.BatchSize)];
                    var target = labels.index(tensor(batch));
                    var textFeatures = settings.TrainTextTower ? Normalize(clip.ForwardText(tokens)) : frozenText!;
                    var pixels = context.Train.Images(batch, epoch);
                    Tensor imageFeatures;
                    if (settings.TrainImageTower) imageFeatures = clip.ForwardImage(pixels);
                    else using (no_grad()) imageFeatures = clip.ForwardImage(pixels);
                    var logits = Normalize(imageFeatures).matmul(textFeatures.t()).mul(scale);
                    var loss = nn.functional.cross_entropy(logits, target);
                    foreach (var o in optimizers) o.ZeroGrad();
                    loss.backward();
                    lr = settings.MinLr + (settings.Lr - settings.MinLr) * (1 + Math.Cos(Math.PI * iteration / total)) / 2;
                    foreach (var o in optimizers) o.Step(lr);
                    iteration++;
                    lossSum += loss.item<float>() * batch.Length;
                    correct += logits.argmax(1).eq(target).sum().item<long>();
                    seen += batch.Length;
                }
                context.Metrics.Log("train/loss", lossSum / seen, epoch + 1);
                context.Metrics.Log("train/acc", 100.0 * correct / seen, epoch + 1);
                context.Metrics.Log("train/lr", lr, epoch + 1);
            }
            training?.Invoke(false);
            return Normalize(clip.EncodeText(tokens));
        }
        finally
        {
            foreach (var o in optimizers) o.Dispose();
        }
    }

    /// <summary>One prompt per class: <paramref name="template"/> (default: the dataset's first) with the class name ('_' as
    /// spaces), as lora.py builds them.</summary>
    public static Tensor ClassPrompts(EncoderAdaptationContext context, string? template = null) =>
        ClassPrompts(context.Task, context.Tokenizer, context.Clip.ContextLength, template);

    static Tensor ClassPrompts(FewShotTask task, ITextTokenizer tokenizer, int contextLength, string? template)
    {
        var prompts = task.ClassNames.Select(c => PromptTemplates.Fill(template ?? task.Templates[0], c.Replace('_', ' '))).ToList();
        return tokenizer.TokenizeToTensor(prompts, contextLength, truncate: true);
    }

    /// <summary>
    /// The classifier weights of other classes after training (base-to-new, transfer): one prompt per class from
    /// <paramref name="template"/> (default: that task's first template, as lora.py builds them for every dataset) through
    /// the text tower with <paramref name="adaptation"/> applied, normalised [C, D].
    /// </summary>
    public static Func<FewShotTask, Tensor> ClassWeightsFor(IAdaptableClip clip, ITextTokenizer tokenizer, TowerAdaptation adaptation,
        string? template = null) => classes =>
    {
        using var tokens = ClassPrompts(classes, tokenizer, clip.ContextLength, template);
        using var applied = clip.Apply(adaptation);
        using var text = clip.EncodeText(tokens);
        return Normalize(text.to(ScalarType.Float32));
    };

    static Tensor Normalize(Tensor x) => CosineClassifier.Normalize(x);
}
