using System.Diagnostics;
using System.Text.Json;
using Peft.Imaging;
using Peft.Clip.Inference;
using Peft.Clip.Loading;
using Peft.Clip.Text;
using static TorchSharp.torch;
using Peft.Tensors;

namespace Peft.Host.FeatureExtraction;

/// <summary>
/// Encodes a folder of images and/or a file of texts with a CLIP checkpoint into one safetensors file:
/// <c>image_features</c> [N, D] (images sorted by relative path, ordinal) and <c>text_features</c> [M, D] (one per
/// line), float32, projected and not normalised, as encode_image / encode_text return them. Images are decoded
/// and preprocessed on worker threads while the previous batch is encoded (<see cref="PipelinedImageEncoder"/>).
/// </summary>
public sealed class EncodeJob(EncodeOptions options)
{
    /// <summary>Called with (stage, done, total) as batches finish; stage is "images" or "texts".</summary>
    public Action<string, int, int>? Progress { get; init; }

    public EncodeResult Run(CancellationToken cancel = default)
    {
        var sw = Stopwatch.StartNew();
        var (images, texts) = ValidateInputs();
        if (options.Threads is int threads) set_num_threads(threads);

        using var loaded = ClipLoader.Load(options.ModelPath, new ClipLoadOptions { ComputeType = options.ComputeType });
        var model = loaded.Model;
        var tokenizer = TokenizerFor(options.ModelPath);
        // Tokenize before the long image pass, so a bad text line fails fast.
        using var tokens = texts.Count > 0 ? Tokenize(tokenizer, texts, model.ContextLength) : null;

        using var imageFeatures = images.Count > 0
            ? EncodeImages(model, images, new ClipPreprocessor(model.ImageResolution, options.ResizeMode), cancel)
            : zeros(0, model.EmbedDim);
        using var textFeatures = tokens is not null ? EncodeTexts(model, tokens, cancel) : zeros(0, model.EmbedDim);

        var metadata = new Dictionary<string, string>
        {
            ["model"] = Path.GetFullPath(options.ModelPath),
            ["model_format"] = loaded.Format.ToString(),
            ["model_config"] = model.Config.Describe(),
            ["compute_dtype"] = options.ComputeType == ScalarType.BFloat16 ? "bf16" : "fp32",
            ["preprocessing"] = $"{options.ResizeMode} {model.ImageResolution}px",
            ["images_root"] = options.ImagesDir is null ? "" : Path.GetFullPath(options.ImagesDir),
            ["image_paths"] = JsonSerializer.Serialize(images.Select(i => i.relative)),
        };
        SafeTensorsFile.Write(options.OutPath,
            [new("image_features", imageFeatures), new("text_features", textFeatures)], metadata);
        return new EncodeResult(options.OutPath, images.Count, texts.Count, model.EmbedDim, sw.Elapsed);
    }

    (List<(string full, string relative)> images, List<string> texts) ValidateInputs()
    {
        if (options.ImagesDir is null && options.TextsFile is null)
            throw new ArgumentException("nothing to encode: give --images <dir> and/or --texts <file>");
        if (options.BatchSize < 1)
            throw new ArgumentException($"--batch-size must be at least 1 (got {options.BatchSize})");
        var images = new List<(string, string)>();
        if (options.ImagesDir is not null)
        {
            if (!Directory.Exists(options.ImagesDir))
                throw new DirectoryNotFoundException($"{options.ImagesDir}: no such folder (--images)");
            images = Directory.EnumerateFiles(options.ImagesDir, "*", SearchOption.AllDirectories)
                .Where(f => EncodeOptions.ImageExtensions.Contains(Path.GetExtension(f)))
                .Select(f => (f, Path.GetRelativePath(options.ImagesDir, f).Replace('\\', '/')))
                .OrderBy(p => p.Item2, StringComparer.Ordinal)
                .ToList();
            if (images.Count == 0)
                throw new ArgumentException($"{options.ImagesDir}: no images ({string.Join(", ", EncodeOptions.ImageExtensions)})");
        }
        var texts = new List<string>();
        if (options.TextsFile is not null)
        {
            if (!File.Exists(options.TextsFile))
                throw new FileNotFoundException($"{options.TextsFile}: no such file (--texts)");
            texts = File.ReadAllLines(options.TextsFile).ToList();
        }
        return (images, texts);
    }

    /// <summary>A Hugging Face folder brings its own vocabulary; everything else uses CLIP's (shipped with the project).</summary>
    static ClipTokenizer TokenizerFor(string modelPath) =>
        Directory.Exists(modelPath) && File.Exists(Path.Combine(modelPath, "vocab.json")) && File.Exists(Path.Combine(modelPath, "merges.txt"))
            ? ClipTokenizer.FromHuggingFace(modelPath)
            : ClipTokenizer.Default;

    Tensor Tokenize(ClipTokenizer tokenizer, List<string> texts, int contextLength)
    {
        if (!options.TruncateTexts)
            for (int i = 0; i < texts.Count; i++)
            {
                int tokens = tokenizer.Encode(texts[i]).Length + 2; // with start and end of text
                if (tokens > contextLength)
                    throw new ArgumentException($"{options.TextsFile}, line {i + 1}: {tokens} tokens, more than the context length {contextLength}; shorten it or pass --truncate");
            }
        return tokenizer.TokenizeToTensor(texts, contextLength, options.TruncateTexts);
    }

    Tensor EncodeImages(Peft.Clip.Model.ClipModel model, List<(string full, string relative)> images, ClipPreprocessor pre, CancellationToken cancel)
    {
        var features = new List<Tensor>();
        try
        {
            var encoder = new PipelinedImageEncoder(model, options.BatchSize)
            {
                Progress = (done, total) => Progress?.Invoke("images", done, total),
            };
            encoder.Run(images, image =>
            {
                var pixels = new float[3 * pre.Size * pre.Size];
                pre.Normalize(pre.PrepareRgb(ImageDecoder.Decode(image.full)), pixels);
                return pixels;
            }, (_, batch) => features.Add(batch.detach().clone().DetachFromDisposeScope()), cancel);
            return cat(features, 0);
        }
        finally
        {
            foreach (var f in features) f.Dispose();
        }
    }

    Tensor EncodeTexts(Peft.Clip.Model.ClipModel model, Tensor tokens, CancellationToken cancel)
    {
        var features = new List<Tensor>();
        try
        {
            long n = tokens.shape[0];
            for (long start = 0; start < n; start += options.BatchSize)
            {
                cancel.ThrowIfCancellationRequested();
                long count = Math.Min(options.BatchSize, n - start);
                using var batch = tokens.narrow(0, start, count);
                features.Add(model.EncodeText(batch));
                Progress?.Invoke("texts", (int)(start + count), (int)n);
            }
            return cat(features, 0);
        }
        finally
        {
            foreach (var f in features) f.Dispose();
        }
    }
}
