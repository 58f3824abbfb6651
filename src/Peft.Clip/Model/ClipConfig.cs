namespace Peft.Clip.Model;

/// <summary>Activation inside the transformer MLPs: OpenAI CLIP uses QuickGELU, some open_clip/HF models exact GELU.</summary>
public enum ClipActivation { QuickGelu, Gelu }

/// <summary>
/// Hyperparameters of a CLIP model, inferred from weight shapes exactly as openai/CLIP <c>build_model</c> does
/// (clip/model.py), so any size (B/32, B/16, L/14, RN50, RN50x4, ...) is built from its checkpoint alone.
/// </summary>
public sealed record ClipConfig
{
    public required int EmbedDim { get; init; }
    public required int ImageResolution { get; init; }
    /// <summary>Transformer depth for a ViT (one entry), blocks per stage for a ModifiedResNet (four entries).</summary>
    public required int[] VisionLayers { get; init; }
    public required int VisionWidth { get; init; }
    /// <summary>Patch size of a ViT; null for a ModifiedResNet.</summary>
    public int? VisionPatchSize { get; init; }
    public required int ContextLength { get; init; }
    public required int VocabSize { get; init; }
    public required int TextWidth { get; init; }
    public required int TextLayers { get; init; }
    public ClipActivation Activation { get; init; } = ClipActivation.QuickGelu;
    public double LayerNormEps { get; init; } = 1e-5;

    /// <summary>Head counts when a config file gives them (Hugging Face); otherwise the openai/CLIP rule applies.</summary>
    public int? TextHeadCount { get; init; }
    public int? VisionHeadCount { get; init; }

    public bool IsVisionTransformer => VisionPatchSize is not null;
    /// <summary>Heads = width / 64 for the text tower and the ViT (openai/CLIP build_model).</summary>
    public int TextHeads => TextHeadCount ?? Math.Max(1, TextWidth / 64);
    /// <summary>ViT: width / 64; ModifiedResNet attention pool: width * 32 / 64.</summary>
    public int VisionHeads => VisionHeadCount ?? (IsVisionTransformer ? Math.Max(1, VisionWidth / 64) : VisionWidth * 32 / 64);

    public string Describe() => IsVisionTransformer
        ? $"ViT (patch {VisionPatchSize}, {VisionLayers[0]} layers, width {VisionWidth}, {ImageResolution}px), embed {EmbedDim}"
        : $"ModifiedResNet (layers {string.Join(",", VisionLayers)}, width {VisionWidth}, {ImageResolution}px), embed {EmbedDim}";

    /// <summary>Infers the configuration from OpenAI-named keys and their shapes (see <see cref="StateDictShapes"/>).</summary>
    public static ClipConfig Infer(IReadOnlyDictionary<string, long[]> shapes, string source)
    {
        long[] Shape(string key) => shapes.TryGetValue(key, out var s)
            ? s : throw new ClipCheckpointException(source, $"missing key '{key}' (needed to infer the model size)", key);

        int embedDim = (int)Shape("text_projection")[1];
        int contextLength = (int)Shape("positional_embedding")[0];
        int vocab = (int)Shape("token_embedding.weight")[0];
        int textWidth = (int)Shape("ln_final.weight")[0];
        int textLayers = shapes.Keys.Where(k => k.StartsWith("transformer.resblocks.", StringComparison.Ordinal))
            .Select(k => k.Split('.')[2]).Distinct().Count();

        if (shapes.ContainsKey("visual.proj"))
        {
            var conv = Shape("visual.conv1.weight");
            int width = (int)conv[0], patch = (int)conv[^1];
            int layers = shapes.Keys.Count(k => k.StartsWith("visual.", StringComparison.Ordinal) && k.EndsWith(".attn.in_proj_weight", StringComparison.Ordinal));
            long tokens = Shape("visual.positional_embedding")[0];
            int grid = (int)Math.Round(Math.Sqrt(tokens - 1));
            if (grid * grid + 1 != tokens)
                throw new ClipCheckpointException(source, $"visual.positional_embedding has {tokens} rows, not a square grid + 1", "visual.positional_embedding");
            return new ClipConfig
            {
                EmbedDim = embedDim, ImageResolution = patch * grid, VisionLayers = [layers], VisionWidth = width,
                VisionPatchSize = patch, ContextLength = contextLength, VocabSize = vocab, TextWidth = textWidth, TextLayers = textLayers,
            };
        }

        var counts = Enumerable.Range(1, 4).Select(b => shapes.Keys
            .Where(k => k.StartsWith($"visual.layer{b}.", StringComparison.Ordinal))
            .Select(k => k.Split('.')[2]).Distinct().Count()).ToArray();
        if (counts.Any(c => c == 0))
            throw new ClipCheckpointException(source, "neither a ViT ('visual.proj') nor a ModifiedResNet ('visual.layer1..4') image tower", "visual");
        int rnWidth = (int)Shape("visual.layer1.0.conv1.weight")[0];
        long poolTokens = Shape("visual.attnpool.positional_embedding")[0];
        int outWidth = (int)Math.Round(Math.Sqrt(poolTokens - 1));
        if (outWidth * outWidth + 1 != poolTokens)
            throw new ClipCheckpointException(source, $"visual.attnpool.positional_embedding has {poolTokens} rows, not a square grid + 1", "visual.attnpool.positional_embedding");
        return new ClipConfig
        {
            EmbedDim = embedDim, ImageResolution = outWidth * 32, VisionLayers = counts, VisionWidth = rnWidth,
            VisionPatchSize = null, ContextLength = contextLength, VocabSize = vocab, TextWidth = textWidth, TextLayers = textLayers,
        };
    }
}
