using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Peft.Imaging;
using Peft.Clip.Loading;
using Peft.Clip.Model;
using Peft.Clip.Text;
using Peft.Core;
using Peft.Data.Datasets;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using Peft.Tensors;

namespace Peft.Pretraining;

/// <summary>One captioned pretraining image (a line of <c>pretrain/captions.jsonl</c>).</summary>
public sealed record CaptionedImage(string ImagePath, string Caption, string ShapeCaption);

/// <summary>Loss of one epoch (mean over its steps) and its wall time.</summary>
public sealed record EpochResult(int Epoch, double MeanLoss, double LastLoss, TimeSpan Elapsed);

/// <summary>Zero-shot top-1 accuracy on one task's test split.</summary>
public sealed record ZeroShotResult(string Task, int Classes, int Images, double Accuracy);

public sealed record PretrainResult(IReadOnlyList<EpochResult> Epochs, IReadOnlyList<ZeroShotResult> ZeroShot,
    string? CheckpointPath, long CheckpointBytes, TimeSpan DataTime, TimeSpan TrainTime, TimeSpan Elapsed, float FinalLogitScale);

/// <summary>
/// Contrastive (CLIP InfoNCE) pretraining of a tiny CLIP on the synthetic world's captioned images: symmetric
/// cross-entropy over the in-batch image–text similarities scaled by a learnable exp(logit_scale) (clamped at
/// <see cref="PretrainRecipe.MaxLogitScale"/>), AdamW (no decay on gains, biases and logit_scale, as open_clip),
/// linear warm-up then cosine. Deterministic: one <see cref="Generator"/> seeded from the recipe draws the
/// initial weights and then every epoch's order; the thread count is set explicitly (bitwise reproducibility
/// holds for the same thread count).
/// </summary>
public sealed class ClipPretrainer
{
    public PretrainRecipe Recipe { get; }
    public TextWriter Log { get; init; } = TextWriter.Null;
    /// <summary>Progress of each stage (decoding, every epoch): called with (label, total, unit) at its start, reported to
    /// with the count done, disposed at its end; null: none. The command line draws bars with it.</summary>
    public Func<string, long, string, IStageProgress>? Progress { get; init; }

    public ClipPretrainer(PretrainRecipe recipe)
    {
        recipe.Validate();
        Recipe = recipe;
    }

    /// <summary>The configuration of the recipe's model (vocabulary of CLIP's BPE tokenizer).</summary>
    public static ClipConfig ConfigOf(TinyClipSize m) => new()
    {
        EmbedDim = m.EmbedDim, ImageResolution = m.ImageSize, VisionWidth = m.VisionWidth,
        VisionLayers = m.Vision == "resnet" ? [m.VisionLayers, m.VisionLayers, m.VisionLayers, m.VisionLayers] : [m.VisionLayers],
        VisionPatchSize = m.Vision == "resnet" ? null : m.PatchSize, ContextLength = m.ContextLength, VocabSize = ClipTokenizer.VocabSize,
        TextWidth = m.TextWidth, TextLayers = m.TextLayers,
    };

    /// <summary>
    /// CLIP's initialisation (openai/CLIP initialize_parameters), applied to both towers, drawn from
    /// <paramref name="g"/> in the fixed order of <c>named_parameters</c>. Biases 0, LayerNorm gains 1.
    /// </summary>
    public static void Initialise(ClipModel model, Generator g, double temperature)
    {
        var c = model.Config;
        using var noGrad = no_grad();
        foreach (var (name, p) in model.named_parameters())
        {
            var parts = name.Split('.');
            bool vision = parts[0] == "visual";
            int width = vision ? c.VisionWidth : c.TextWidth, layers = vision ? c.VisionLayers[0] : c.TextLayers;
            if (name == "logit_scale") { p.fill_(Math.Log(1 / temperature)); continue; }
            if (parts[^1] == "bias" || parts[^1].EndsWith("_bias", StringComparison.Ordinal)) { p.zero_(); continue; }
            if (parts.Length >= 2 && parts[^2].StartsWith("ln_", StringComparison.Ordinal)) { p.fill_(1.0); continue; }
            if (vision && !c.IsVisionTransformer && IsBatchNormWeight(parts))
            {
                // openai/CLIP zeroes the last BatchNorm of every bottleneck, so each block starts as the identity.
                p.fill_(parts[1].StartsWith("layer", StringComparison.Ordinal) && parts[^2] == "bn3" ? 0.0 : 1.0);
                continue;
            }
            double std = name switch
            {
                "token_embedding.weight" => 0.02,
                "positional_embedding" => 0.01,
                "text_projection" => Math.Pow(c.TextWidth, -0.5),
                "visual.class_embedding" or "visual.positional_embedding" or "visual.proj" => Math.Pow(c.VisionWidth, -0.5),
                "visual.conv1.weight" when c.IsVisionTransformer => Math.Pow(3.0 * c.VisionPatchSize!.Value * c.VisionPatchSize.Value, -0.5),
                // ModifiedResNet: convolutions get the std of PyTorch's default init, U(±1/√fan_in) (openai/CLIP keeps
                // it); the attention pool as openai/CLIP initialize_parameters (c_proj.in_features^-0.5).
                _ when vision && !c.IsVisionTransformer && p.dim() == 4 => Math.Pow(3.0 * p.shape[1] * p.shape[2] * p.shape[3], -0.5),
                "visual.attnpool.positional_embedding" => Math.Pow(p.shape[1], -0.5),
                _ when name.StartsWith("visual.attnpool.", StringComparison.Ordinal) && name.EndsWith("_proj.weight", StringComparison.Ordinal)
                    => Math.Pow(c.VisionWidth * 32, -0.5),
                _ when name.EndsWith(".attn.in_proj_weight", StringComparison.Ordinal) => Math.Pow(width, -0.5),
                _ when name.EndsWith(".attn.out_proj.weight", StringComparison.Ordinal) || name.EndsWith(".mlp.c_proj.weight", StringComparison.Ordinal)
                    => Math.Pow(width, -0.5) * Math.Pow(2.0 * layers, -0.5),
                _ when name.EndsWith(".mlp.c_fc.weight", StringComparison.Ordinal) => Math.Pow(2.0 * width, -0.5),
                _ => throw new InvalidOperationException($"no initialisation rule for parameter '{name}'"),
            };
            using var r = randn(p.shape, generator: g);
            p.copy_(r.mul_(std));
        }
    }

    /// <summary>A BatchNorm gain of the ModifiedResNet: <c>bn1..3</c> or a downsample's second module.</summary>
    static bool IsBatchNormWeight(string[] parts) => parts[^1] == "weight" && parts.Length >= 3 &&
        ((parts[^2].Length == 3 && parts[^2].StartsWith("bn", StringComparison.Ordinal)) || (parts[^3] == "downsample" && parts[^2] == "1"));

    /// <summary>Reads <c>pretrain/captions.jsonl</c> of a synth output (image paths made absolute).</summary>
    public static List<CaptionedImage> ReadCaptions(string dataDir)
    {
        var file = Path.Combine(dataDir, "pretrain", "captions.jsonl");
        if (!File.Exists(file))
            throw new FileNotFoundException($"{file} not found: --data must be a folder written by 'peft data synth'", file);
        var list = new List<CaptionedImage>();
        int line = 0;
        foreach (var text in File.ReadLines(file))
        {
            line++;
            if (string.IsNullOrWhiteSpace(text)) continue;
            using var doc = JsonDocument.Parse(text);
            var root = doc.RootElement;
            if (!root.TryGetProperty("image", out var img) || !root.TryGetProperty("caption", out var cap))
                throw new InvalidDataException($"{file}:{line}: needs \"image\" and \"caption\"");
            var shapes = root.TryGetProperty("objects", out var objects) && objects.ValueKind == JsonValueKind.Array
                ? objects.EnumerateArray().Select(o => o.TryGetProperty("shape", out var sh) ? sh.GetString() : null).OfType<string>().ToList()
                : [];
            if (shapes.Count == 0) throw new InvalidDataException($"{file}:{line}: needs \"objects\" with their \"shape\"");
            list.Add(new CaptionedImage(Path.Combine(dataDir, "pretrain", img.GetString()!), cap.GetString()!,
                string.Join(" and ", shapes.Select(sh => $"a {sh}"))));
        }
        return list;
    }

    /// <summary>Trains on <paramref name="dataDir"/>, evaluates zero-shot on the recipe's tasks, writes the checkpoint (if a path is given).</summary>
    public PretrainResult Run(string dataDir, string? checkpointPath)
    {
        int previousThreads = get_num_threads();
        set_num_threads(Recipe.Threads);
        try { return RunCore(dataDir, checkpointPath); }
        finally { set_num_threads(previousThreads); }
    }

    PretrainResult RunCore(string dataDir, string? checkpointPath)
    {
        var total = Stopwatch.StartNew();
        var r = Recipe;
        var items = ReadCaptions(dataDir);
        if (r.Data.MaxImages > 0 && items.Count > r.Data.MaxImages) items = items.Take(r.Data.MaxImages).ToList();
        if (items.Count < r.Data.MinImages)
            throw new PretrainRecipeException("recipe", "data.min_images", $"expects at least {r.Data.MinImages} captioned images but {dataDir} has {items.Count}");

        // Decode every image once; check the size the recipe expects.
        var preprocessor = new ClipPreprocessor(r.Model.ImageSize);
        var first = ImageDecoder.Decode(items[0].ImagePath);
        if (first.Width != r.Data.ImageSize || first.Height != r.Data.ImageSize)
            throw new PretrainRecipeException("recipe", "data.image_size",
                $"is {r.Data.ImageSize} but the pretraining images are {first.Width}×{first.Height} (regenerate with 'peft data synth --image-size {r.Data.ImageSize}' or change the recipe)");
        var dataClock = Stopwatch.StartNew();
        Tensor images;
        {
            var chunks = new List<Tensor>();
            using var bar = Progress?.Invoke("decode", items.Count, "images");
            for (int start = 0; start < items.Count; start += 1000)
            {
                var paths = items.Skip(start).Take(1000).Select(i => i.ImagePath).ToList();
                chunks.Add(preprocessor.PreprocessBatch(paths, r.Threads));
                bar?.Report(start + paths.Count);
            }
            images = cat(chunks, 0);
            foreach (var t in chunks) t.Dispose();
        }
        using var imagesHandle = images;
        using var tokens = ClipTokenizer.Default.TokenizeToTensor(items.Select(i => i.Caption).ToList(), r.Model.ContextLength, truncate: true);
        using var shapeTokens = ClipTokenizer.Default.TokenizeToTensor(items.Select(i => i.ShapeCaption).ToList(), r.Model.ContextLength, truncate: true);
        dataClock.Stop();
        Log.WriteLine($"data: {items.Count} captioned images ({r.Data.ImageSize} px → {r.Model.ImageSize} px), decoded in {dataClock.Elapsed.TotalSeconds:F1} s");

        using var g = new Generator((ulong)r.Seed);
        using var model = new ClipModel(ConfigOf(r.Model));
        Initialise(model, g, r.TemperatureInit);
        model.SetTrainable(true);
        long paramCount = model.parameters().Sum(p => p.numel());
        Log.WriteLine($"model: {model.Config.Describe()}, text {r.Model.TextLayers}×{r.Model.TextWidth}, context {r.Model.ContextLength}; {paramCount / 1e6:F2} M parameters; threads {r.Threads}, seed {r.Seed}");

        var epochs = Train(model, images, tokens, g, shapeTokens);
        var trainTime = total.Elapsed - dataClock.Elapsed;
        model.SetTrainable(false);
        float finalScale = model.LogitScale;

        long bytes = 0;
        if (checkpointPath is not null)
        {
            bytes = Save(model, checkpointPath, r, items.Count, epochs);
            Log.WriteLine($"checkpoint: {checkpointPath} ({bytes / 1e6:F1} MB, {r.CheckpointDtype})");
        }

        var zeroShot = new List<ZeroShotResult>();
        foreach (var task in r.Data.EvalTasks)
        {
            var dir = Path.Combine(dataDir, task);
            if (!Directory.Exists(dir)) { Log.WriteLine($"zero-shot: {task} not found in {dataDir}, skipped"); continue; }
            var res = EvaluateZeroShot(model, new CoopLayoutReader().Read(dir), r.Threads);
            zeroShot.Add(res);
            Log.WriteLine($"zero-shot {res.Task}: {res.Accuracy * 100:F2}% top-1 ({res.Images} test images, {res.Classes} classes, chance {100.0 / res.Classes:F1}%)");
        }
        total.Stop();
        return new PretrainResult(epochs, zeroShot, checkpointPath, bytes, dataClock.Elapsed, trainTime, total.Elapsed, finalScale);
    }

    /// <summary>The training loop on preprocessed images [N,3,S,S] and tokens [N,L].</summary>
    /// <param name="shapeTokens">Shape-only captions, used instead of <paramref name="tokens"/> for a random
    /// <c>data.shape_caption_fraction</c> of each batch (drawn from <paramref name="g"/> only when the fraction is positive).</param>
    public List<EpochResult> Train(ClipModel model, Tensor images, Tensor tokens, Generator g, Tensor? shapeTokens = null)
    {
        var r = Recipe;
        long n = images.shape[0];
        int batch = (int)Math.Min(r.BatchSize, n);
        long steps = n / batch; // the incomplete last batch is dropped (in-batch negatives stay comparable)
        long totalSteps = steps * r.Epochs;
        var parameters = model.named_parameters().ToList();
        var state = parameters.Select(p => (m: zeros_like(p.parameter), v: zeros_like(p.parameter),
            decay: p.parameter.dim() >= 2 && p.name != "logit_scale")).ToList();
        double maxLogit = Math.Log(r.MaxLogitScale);
        var logitScale = model.LogitScaleParameter;
        var results = new List<EpochResult>();
        long step = 0;
        // Wrong convolution gradients train silently (a 2-core EPYC VM: 159% off, or NaN), so the image tower's
        // training path is checked on a real batch against float64 first (ConvolutionTrainingGuard).
        using var guard = model.GuardImageTraining(images.narrow(0, 0, batch));
        var checkedPath = guard.Verdicts[^1];
        Log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"training self-check: image tower gradients within {checkedPath.WorstError:E1} of float64 [{checkedPath.Configuration}]"));
        for (int epoch = 1; epoch <= r.Epochs; epoch++)
        {
            var clock = Stopwatch.StartNew();
            using var order = randperm(n, generator: g);
            double sum = 0, last = 0;
            using (var bar = Progress?.Invoke($"epoch {epoch}/{r.Epochs}", steps, "steps"))
            {
                for (long s = 0; s < steps; s++, step++)
                {
                    using var scope = NewDisposeScope();
                    var idx = order.narrow(0, s * batch, batch);
                    var x = images.index_select(0, idx);
                    var t = tokens.index_select(0, idx);
                    if (shapeTokens is not null && r.Data.ShapeCaptionFraction > 0)
                    {
                        var swap = rand(batch, generator: g).lt(r.Data.ShapeCaptionFraction).unsqueeze(1);
                        t = where(swap, shapeTokens.index_select(0, idx), t);
                    }
                    var fi = nn.functional.normalize(model.ForwardImage(x), dim: -1);
                    var ft = nn.functional.normalize(model.ForwardText(t), dim: -1);
                    var logits = logitScale.exp() * fi.matmul(ft.t());
                    var labels = arange(batch, dtype: ScalarType.Int64);
                    var loss = (nn.functional.cross_entropy(logits, labels) + nn.functional.cross_entropy(logits.t(), labels)) / 2;
                    loss.backward();
                    double lr = LearningRate(step, totalSteps);
                    AdamWStep(parameters.Select(p => p.parameter).ToList(), state, lr, step + 1);
                    using (no_grad()) logitScale.clamp_(0, maxLogit);
                    last = loss.item<float>();
                    if (!double.IsFinite(last))
                        throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                            $"pretraining: the loss became {last} at epoch {epoch}, step {s + 1} (learning rate {lr:G3}); no checkpoint is written. Lower optimizer.lr or raise optimizer.warmup_steps; if it persists, report it with the output of 'peft info'."));
                    sum += last;
                    bar?.Report(s + 1);
                }
            }
            clock.Stop();
            var res = new EpochResult(epoch, sum / Math.Max(1, steps), last, clock.Elapsed);
            results.Add(res);
            Log.WriteLine($"epoch {epoch}/{r.Epochs}: loss {res.MeanLoss:F4} (last batch {res.LastLoss:F4}), logit scale {model.LogitScale:F1}, {clock.Elapsed.TotalSeconds:F1} s");
        }
        foreach (var (m, v, _) in state) { m.Dispose(); v.Dispose(); }
        return results;
    }

    /// <summary>Linear warm-up from lr/warmup to lr, then cosine to min_lr, per step (0-based).</summary>
    public double LearningRate(long step, long totalSteps)
    {
        var o = Recipe.Optimizer;
        if (step < o.WarmupSteps) return o.Lr * (step + 1) / o.WarmupSteps;
        long decaySteps = Math.Max(1, totalSteps - o.WarmupSteps);
        double progress = Math.Min(1.0, (double)(step - o.WarmupSteps) / decaySteps);
        return o.MinLr + 0.5 * (o.Lr - o.MinLr) * (1 + Math.Cos(Math.PI * progress));
    }

    /// <summary>AdamW (decoupled weight decay, bias-corrected moments), as torch.optim.AdamW; clears the gradients.</summary>
    void AdamWStep(List<Parameter> ps, List<(Tensor m, Tensor v, bool decay)> state, double lr, long t)
    {
        var o = Recipe.Optimizer;
        double bc1 = 1 - Math.Pow(o.Beta1, t), bc2 = 1 - Math.Pow(o.Beta2, t);
        using var noGrad = no_grad();
        for (int i = 0; i < ps.Count; i++)
        {
            var p = ps[i];
            var grad = p.grad;
            if (grad is null) continue;
            var (m, v, decay) = state[i];
            if (decay && o.WeightDecay > 0) p.mul_(1 - lr * o.WeightDecay);
            m.mul_(o.Beta1).add_(grad, alpha: 1 - o.Beta1);
            v.mul_(o.Beta2).addcmul_(grad, grad, value: 1 - o.Beta2);
            using var denom = (v / bc2).sqrt_().add_(o.Eps);
            p.addcdiv_(m, denom, value: -lr / bc1);
            grad.zero_();
        }
    }

    /// <summary>Writes the model's state_dict (OpenAI names) as safetensors in the recipe's dtype, with the recipe in the metadata.</summary>
    public static long Save(ClipModel model, string path, PretrainRecipe recipe, int images, IReadOnlyList<EpochResult> epochs)
    {
        var dtype = recipe.CheckpointDtype == "float16" ? ScalarType.Float16 : ScalarType.Float32;
        using var scope = NewDisposeScope();
        var tensors = model.state_dict().Select(kv => new KeyValuePair<string, Tensor>(kv.Key, kv.Value.detach().to(dtype))).ToList();
        var meta = new Dictionary<string, string>
        {
            ["format"] = "pt",
            ["peft.pretrain.recipe"] = recipe.ToJson(),
            ["peft.pretrain.images"] = images.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["peft.pretrain.final_loss"] = epochs.Count > 0 ? epochs[^1].MeanLoss.ToString("R", System.Globalization.CultureInfo.InvariantCulture) : "",
        };
        SafeTensorsFile.Write(path, tensors, meta);
        return new FileInfo(path).Length;
    }

    /// <summary>Zero-shot top-1 accuracy of <paramref name="model"/> on a task's test split with its templates.</summary>
    public static ZeroShotResult EvaluateZeroShot(ClipModel model, ImageDataset dataset, int threads, int batchSize = 500)
    {
        using var scope = NewDisposeScope();
        var weights = TextClassifier.Build(model, ClipTokenizer.Default, dataset.ClassNames, dataset.Templates);
        var preprocessor = new ClipPreprocessor(model.ImageResolution);
        long correct = 0;
        var test = dataset.Test;
        for (int start = 0; start < test.Count; start += batchSize)
        {
            using var inner = NewDisposeScope();
            var chunk = test.Skip(start).Take(batchSize).ToList();
            var x = preprocessor.PreprocessBatch(chunk.Select(dataset.PathOf).ToList(), threads);
            var f = nn.functional.normalize(model.EncodeImage(x), dim: -1);
            var pred = f.matmul(weights.t()).argmax(-1);
            var labels = tensor(chunk.Select(i => (long)i.Label).ToArray());
            correct += pred.eq(labels).sum().item<long>();
        }
        return new ZeroShotResult(dataset.Name, dataset.ClassNames.Count, test.Count, test.Count == 0 ? 0 : (double)correct / test.Count);
    }
}

/// <summary>One stage's progress (see <see cref="ClipPretrainer.Progress"/>).</summary>
public interface IStageProgress : IDisposable
{
    void Report(long done);
}
