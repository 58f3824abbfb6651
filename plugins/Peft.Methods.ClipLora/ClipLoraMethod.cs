using Peft.Core;
using Peft.Core.Encoders;
using Peft.Core.Optimization;
using TorchSharp;
using static TorchSharp.torch;

namespace Peft.Methods.ClipLora;

/// <summary>
/// CLIP-LoRA's training (lora.py <c>run_lora</c>): LoRA pairs on both towers; each iteration encodes the class prompts
/// (the dataset's first template) with the adapted text tower and a batch of augmented images with the adapted image
/// tower, and minimises cross-entropy of 100 · cosine similarity with AdamW (weight decay 1e-2, betas 0.9/0.999) under
/// a cosine schedule from lr to 1e-6 over ItersPerShot × shots iterations, stepped per iteration. The official loop has
/// no validation (<c>VALIDATION = False</c>): the last state is the result.
/// </summary>
public sealed class ClipLoraMethod(ClipLoraOptions options) : IEncoderAdaptationMethod
{
    public const double MinLr = 1e-6; // lora.py: CosineAnnealingLR(..., eta_min=1e-6)

    public IEncoderClassifier Fit(EncoderAdaptationContext context)
    {
        var clip = context.Clip;
        var task = context.Task;
        var layers = new ClipLoraLayers(clip, options, context.Generator);
        var optimizers = new List<Adam>();
        try
        {
            bool text = options.Encoder != "vision", image = options.Encoder != "text";
            // lora.py: texts = [dataset.template[0].format(classname.replace('_', ' '))]
            var prompts = task.ClassNames.Select(c => PromptTemplates.Fill(task.Templates[0], c.Replace('_', ' '))).ToList();
            using var tokens = context.Tokenizer.TokenizeToTensor(prompts, clip.ContextLength, truncate: true);
            using var frozenText = text ? null : Normalize(clip.EncodeText(tokens));
            optimizers.AddRange(layers.Parameters().Select(p => new Adam(p.Parameter, 0.9, 0.999, 1e-8, options.WeightDecay, decoupled: true)));
            long total = (long)options.ItersPerShot * task.Shots, iteration = 0;
            int n = context.Train.Count;
            if (n == 0) throw new ArgumentException("clip-lora: the cell has no training images");
            using var labels = context.Train.Labels.to(ScalarType.Int64);
            using Scalar scale = options.LogitScale;
            layers.Training = true;
            using (clip.Apply(layers.Adaptation))
            {
                for (int epoch = 0; iteration < total; epoch++)
                {
                    using var order = randperm(n, generator: context.Generator);
                    var indices = order.data<long>().ToArray();
                    double lossSum = 0;
                    long correct = 0, seen = 0;
                    for (int start = 0; start < n && iteration < total; start += options.BatchSize)
                    {
                        context.Cancellation.ThrowIfCancellationRequested();
                        using var scope = NewDisposeScope();
                        var batch = indices[start..Math.Min(n, start + options.BatchSize)];
                        var target = labels.index(tensor(batch));
                        var textFeatures = text ? Normalize(clip.ForwardText(tokens)) : frozenText!;
                        var pixels = context.Train.Images(batch, epoch);
                        Tensor imageFeatures;
                        if (image) imageFeatures = clip.ForwardImage(pixels);
                        else using (no_grad()) imageFeatures = clip.ForwardImage(pixels);
                        var logits = Normalize(imageFeatures).matmul(textFeatures.t()).mul(scale);
                        var loss = nn.functional.cross_entropy(logits, target);
                        foreach (var o in optimizers) o.ZeroGrad();
                        loss.backward();
                        double lr = MinLr + (options.Lr - MinLr) * (1 + Math.Cos(Math.PI * iteration / total)) / 2;
                        foreach (var o in optimizers) o.Step(lr);
                        iteration++;
                        lossSum += loss.item<float>() * batch.Length;
                        correct += logits.argmax(1).eq(target).sum().item<long>();
                        seen += batch.Length;
                    }
                    context.Metrics.Log("train/loss", lossSum / seen, epoch + 1);
                    context.Metrics.Log("train/acc", 100.0 * correct / seen, epoch + 1);
                    context.Metrics.Log("train/lr", MinLr + (options.Lr - MinLr) * (1 + Math.Cos(Math.PI * iteration / total)) / 2, epoch + 1);
                }
                layers.Training = false;
                // evaluate_lora: the adapted text tower on the same prompts is the classifier.
                var classWeights = Normalize(clip.EncodeText(tokens)).DetachFromDisposeScope();
                return new ClipLoraClassifier(layers, classWeights, (float)options.LogitScale);
            }
        }
        catch
        {
            layers.Dispose();
            throw;
        }
        finally
        {
            foreach (var o in optimizers) o.Dispose();
        }
    }

    static Tensor Normalize(Tensor x) => x.div(x.norm(1, true));
}
