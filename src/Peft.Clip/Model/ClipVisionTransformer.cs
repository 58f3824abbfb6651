using TorchSharp;
using TorchSharp.Modules;
using Peft.Core.Encoders;
using static TorchSharp.torch;

namespace Peft.Clip.Model;

/// <summary>
/// CLIP ViT image tower: patchify conv (no bias) → [class token; patches] + positional embedding → ln_pre →
/// transformer → ln_post on the class token → @ proj (openai/CLIP VisionTransformer).
/// </summary>
public sealed class ClipVisionTransformer : nn.Module<Tensor, Tensor>
{
    readonly Conv2d conv1;
    readonly Parameter class_embedding;
    readonly Parameter positional_embedding;
    readonly ClipLayerNorm ln_pre;
    readonly ClipTransformer transformer;
    readonly ClipLayerNorm ln_post;
    readonly Parameter proj;
    readonly long _patch;

    internal ClipTransformer Transformer => transformer;
    internal ClipLayerNorm PreNorm => ln_pre;
    internal ClipLayerNorm PostNorm => ln_post;
    /// <summary>Transform of the embeddings before <c>ln_pre</c> (null: none), set by <see cref="TowerSiteMap"/>.</summary>
    internal ITokenTransform? BeforePreNorm { get; set; }

    public ClipVisionTransformer(ClipConfig c) : base(nameof(ClipVisionTransformer))
    {
        int width = c.VisionWidth, patch = c.VisionPatchSize!.Value, grid = c.ImageResolution / patch;
        conv1 = nn.Conv2d(3, width, patch, stride: patch, bias: false);
        _patch = patch;
        class_embedding = new Parameter(zeros(width), requires_grad: false);
        positional_embedding = new Parameter(zeros(grid * grid + 1, width), requires_grad: false);
        ln_pre = new ClipLayerNorm(width, c.LayerNormEps);
        transformer = new ClipTransformer(width, c.VisionLayers[0], c.VisionHeads, causal: false, c.Activation, c.LayerNormEps);
        ln_post = new ClipLayerNorm(width, c.LayerNormEps);
        proj = new Parameter(zeros(width, c.EmbedDim), requires_grad: false);
        RegisterComponents();
    }

    /// <param name="x">[N, 3, H, W] in the model's dtype.</param>
    /// <summary>Checks of the patch convolution (the only one here; see <see cref="ConvolutionCheck"/>).</summary>
    public ConvolutionCheck Check { get; } = new(_ => { }, layoutMatters: false);

    public override Tensor forward(Tensor x) => training ? Forward(x) : Check.Run(x, Forward);

    Tensor Forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var patches = training ? conv1.forward(x)                     // [N, W, g, g]
            : ConvolutionCheck.Conv2d(x.contiguous(), conv1.weight!, null, _patch, 0);
        patches = patches.flatten(2).transpose(1, 2);                 // [N, g², W]
        long n = patches.shape[0];
        var cls = class_embedding.to(patches.dtype).expand(n, 1, -1);
        var tokens = cat([cls, patches], 1).add(positional_embedding.to(patches.dtype), RootedScalars.One);
        if (BeforePreNorm is { } transform) tokens = transform.Transform(tokens).to(tokens.dtype);
        tokens = transformer.forward(ln_pre.forward(tokens));
        var pooled = ln_post.forward(tokens.select(1, 0));
        return pooled.matmul(proj).MoveToOuterDisposeScope();
    }
}
