using TorchSharp;
using TorchSharp.Modules;
using Peft.Core.Encoders;
using static TorchSharp.torch;

namespace Peft.Clip.Model;

/// <summary>
/// A frozen CLIP model: image tower (ViT or ModifiedResNet) and text tower with OpenAI state_dict names.
/// Features are returned as <c>encode_image</c>/<c>encode_text</c> return them: projected, not normalised, float32.
/// Weights live in <see cref="ComputeType"/> (float32 by default; bfloat16 on request), LayerNorms compute in fp32.
/// </summary>
public sealed class ClipModel : nn.Module, Peft.Core.IFrozenTextEncoder, IAdaptableClip
{
    readonly nn.Module<Tensor, Tensor> visual;
    readonly ClipTransformer transformer;
    readonly Embedding token_embedding;
    readonly Parameter positional_embedding;
    readonly ClipLayerNorm ln_final;
    readonly Parameter text_projection;
    readonly Parameter logit_scale;

    public ClipConfig Config { get; }
    public ScalarType ComputeType { get; private set; } = ScalarType.Float32;

    public ClipModel(ClipConfig config) : base(nameof(ClipModel))
    {
        Config = config;
        visual = config.IsVisionTransformer ? new ClipVisionTransformer(config) : new ModifiedResNet(config);
        transformer = new ClipTransformer(config.TextWidth, config.TextLayers, config.TextHeads, causal: true,
            config.Activation, config.LayerNormEps);
        token_embedding = nn.Embedding(config.VocabSize, config.TextWidth);
        positional_embedding = new Parameter(zeros(config.ContextLength, config.TextWidth), requires_grad: false);
        ln_final = new ClipLayerNorm(config.TextWidth, config.LayerNormEps);
        text_projection = new Parameter(zeros(config.TextWidth, config.EmbedDim), requires_grad: false);
        logit_scale = new Parameter(tensor(MathF.Log(1 / 0.07f)), requires_grad: false);
        RegisterComponents();
        foreach (var p in parameters()) p.requires_grad = false;
        eval();
        _sites = new TowerSiteMap(transformer, ln_final, visual as ClipVisionTransformer);
    }

    readonly TowerSiteMap _sites;

    // ---- Insertion points for encoder-level methods (IAdaptableClip). The towers run frozen unless an adaptation is
    // applied; applying one only attaches references to its deltas.

    public bool ImageTowerIsTransformer => Config.IsVisionTransformer;
    public int Layers(Tower tower) => tower == Tower.Text ? Config.TextLayers : Config.IsVisionTransformer ? Config.VisionLayers[0] : 0;
    public int Width(Tower tower) => tower == Tower.Text ? Config.TextWidth : Config.IsVisionTransformer ? Config.VisionWidth : 0;
    public IReadOnlyList<LinearSite> LinearSites => _sites.LinearSites;
    public IReadOnlyList<NormSite> NormSites => _sites.NormSites;
    public IReadOnlyList<TokenSite> TokenSites => _sites.TokenSites;
    public IDisposable Apply(TowerAdaptation adaptation) => _sites.Apply(adaptation);
    public Tensor FrozenBias(LinearSite site) => _sites.FrozenBias(site);
    public (Tensor Weight, Tensor Bias) FrozenNorm(NormSite site) => _sites.FrozenNorm(site);

    public int EmbedDim => Config.EmbedDim;
    public int ImageResolution => Config.ImageResolution;
    public int ContextLength => Config.ContextLength;
    public int TextWidth => Config.TextWidth;
    /// <summary>exp(logit_scale): the temperature of CLIP's logits (100 for the released models).</summary>
    public float LogitScale => logit_scale.to(ScalarType.Float32).exp().item<float>(); // fp32 even when the weights are bf16

    /// <summary>Casts the weights to <paramref name="type"/> (Float32 or BFloat16) for computation.</summary>
    public ClipModel UseComputeType(ScalarType type)
    {
        if (type is not (ScalarType.Float32 or ScalarType.BFloat16))
            throw new ArgumentException($"compute type {type} is not supported (use Float32 or BFloat16)", nameof(type));
        if (type != ComputeType)
        {
            this.to(type);
            // LayerNorm parameters stay fp32, as openai/CLIP's convert_weights leaves them (they compute in fp32).
            foreach (var norm in modules().OfType<ClipLayerNorm>()) norm.to(ScalarType.Float32);
            ComputeType = type;
        }
        return this;
    }

    /// <summary>The checks of the image tower's convolutions (layout in use, verdicts so far).</summary>
    public ConvolutionCheck ImageConvolutions => visual is ModifiedResNet r ? r.Check : ((ClipVisionTransformer)visual).Check;

    /// <summary>
    /// Image features [N, EmbedDim] (float32) for preprocessed images [N, 3, R, R]. A ViT runs in chunks of
    /// <see cref="ImageChunk"/> images so that no activation outgrows the allocator's reuse threshold (see there).
    /// </summary>
    public Tensor EncodeImage(Tensor images)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        long n = images.shape[0];
        int chunk = ImageChunk;
        if (n <= chunk) return visual.forward(images.to(ComputeType)).to(ScalarType.Float32).MoveToOuterDisposeScope();
        var parts = new List<Tensor>();
        for (long start = 0; start < n; start += chunk)
            parts.Add(visual.forward(images.narrow(0, start, Math.Min(chunk, n - start)).to(ComputeType)).to(ScalarType.Float32));
        return cat(parts, 0).MoveToOuterDisposeScope();
    }

    /// <summary>Images per forward pass of <see cref="EncodeImage"/> for this model (<see cref="ImageChunkFor"/>).</summary>
    public int ImageChunk => ImageChunkFor(Config);

    /// <summary>
    /// For a ViT, as many images as keep its largest activation (the MLP's hidden layer, N × L × 4W, or the attention
    /// scores, N × H × L × L, counted in fp32) within half of <see cref="Native.MallocTuning.MmapThresholdBytes"/> (other
    /// temporaries of the block are alive at the same time). Larger blocks are mapped afresh by glibc on every
    /// allocation and page-fault on first touch: ViT-B/16 (6 images per pass) encoded 4.39 img/s fp32 and 11.7 bf16 at
    /// batch 32, against 2.24 and 7.65 in one pass (development VM, 2 threads). A chunk's features are those of a
    /// forward pass at that batch size. ResNets: the whole batch (their own micro-batching applies).
    /// </summary>
    public static int ImageChunkFor(ClipConfig config)
    {
        if (!config.IsVisionTransformer) return int.MaxValue;
        long grid = config.ImageResolution / config.VisionPatchSize!.Value, tokens = grid * grid + 1;
        long perImage = 4 * tokens * Math.Max(4L * config.VisionWidth, config.VisionHeads * tokens);
        return (int)Math.Clamp(Native.MallocTuning.MmapThresholdBytes / 2 / perImage, 1, int.MaxValue);
    }

    /// <summary>Text features [N, EmbedDim] (float32) for token ids [N, L] (L ≤ context length), pooled at the argmax id (EOT).</summary>
    public Tensor EncodeText(Tensor tokens)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var ids = tokens.to(ScalarType.Int64);
        if (ids.numel() > 0)
        {
            long max = ids.max().item<long>(), min = ids.min().item<long>();
            if (max >= Config.VocabSize || min < 0)
                throw new ArgumentException($"token id {(min < 0 ? min : max)} is outside the model's vocabulary of {Config.VocabSize} (tokenizer and model do not match)");
        }
        var embeddings = token_embedding.forward(ids);
        return EncodeTokenEmbeddings(embeddings, ids.argmax(-1)).to(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    // ---- Training path (pretraining only). The frozen API above is unchanged: EncodeImage/EncodeText always run
    // under no_grad; these methods keep gradients when the model was made trainable with SetTrainable(true).

    /// <summary>
    /// Makes every parameter trainable (requires_grad, train mode) or frozen again (eval mode). Only pretraining
    /// uses this; a model from <see cref="Loading.ClipLoader"/> starts frozen.
    /// </summary>
    public ClipModel SetTrainable(bool trainable)
    {
        foreach (var p in parameters()) p.requires_grad = trainable;
        if (trainable) train(); else eval();
        return this;
    }

    /// <summary>True when <see cref="SetTrainable"/> made the parameters trainable.</summary>
    public bool IsTrainable => parameters().Any(p => p.requires_grad);

    /// <summary>The raw (log) temperature parameter; exp gives <see cref="LogitScale"/>. For training only.</summary>
    public Parameter LogitScaleParameter => logit_scale;

    /// <summary>
    /// Checks the image tower's training path (convolution gradients against a float64 copy, on <paramref name="batch"/>)
    /// and keeps it on a path that computes them right until disposed; see <see cref="ConvolutionTrainingGuard"/>.
    /// </summary>
    public ConvolutionTrainingGuard GuardImageTraining(Tensor batch)
    {
        using var scope = NewDisposeScope();
        return GuardImageTraining(batch.to(ComputeType), offOnCpusWithoutCaches: true);
    }

    internal ConvolutionTrainingGuard GuardImageTraining(Tensor batch, bool offOnCpusWithoutCaches) =>
        ConvolutionTrainingGuard.Start(() => Config.IsVisionTransformer ? new ClipVisionTransformer(Config) : new ModifiedResNet(Config),
            visual, ImageConvolutions.Layout, batch, offOnCpusWithoutCaches);

    /// <summary>Image features [N, EmbedDim] with gradients (training path; not normalised).</summary>
    public Tensor ForwardImage(Tensor images)
    {
        using var scope = NewDisposeScope();
        return visual.forward(images.to(ComputeType)).to(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Text features [N, EmbedDim] with gradients (training path), pooled at the argmax id (EOT). The sequence is cut
    /// after the last EOT of the batch, which gives the same result because the mask is causal.
    /// </summary>
    public Tensor ForwardText(Tensor tokens)
    {
        using var scope = NewDisposeScope();
        var ids = tokens.to(ScalarType.Int64);
        var eot = ids.argmax(-1);
        long used = Math.Min(ids.shape[1], eot.max().item<long>() + 1);
        var embeddings = token_embedding.forward(ids.narrow(1, 0, used));
        return EncodeTokenEmbeddings(embeddings, eot).to(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    /// <summary>The frozen token embedding table lookup, [N, L] → [N, L, TextWidth] (in the compute type).</summary>
    public Tensor EmbedTokens(Tensor tokens)
    {
        using var scope = NewDisposeScope();
        return token_embedding.forward(tokens.to(ScalarType.Int64)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Runs the text tower from token embeddings [N, L, TextWidth] (L ≤ context length), pooling at
    /// <paramref name="eotIndex"/> [N]. Gradients flow to the embeddings (prompt learning), not to the weights.
    /// Because the mask is causal, truncating L to the longest prompt gives the same result.
    /// </summary>
    public Tensor EncodeTokenEmbeddings(Tensor embeddings, Tensor eotIndex)
    {
        using var scope = NewDisposeScope();
        long n = embeddings.shape[0], l = embeddings.shape[1];
        if (l > Config.ContextLength)
            throw new ArgumentException($"sequence length {l} exceeds the context length {Config.ContextLength}");
        var x = embeddings.to(ComputeType).add(positional_embedding.narrow(0, 0, l).to(ComputeType), RootedScalars.One);
        x = ln_final.forward(transformer.forward(x));
        var index = eotIndex.to(ScalarType.Int64).view(n, 1, 1).expand(n, 1, x.shape[2]);
        var pooled = x.gather(1, index).squeeze(1);
        return pooled.matmul(text_projection).MoveToOuterDisposeScope();
    }
}
