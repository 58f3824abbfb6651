using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Clip.Model;

/// <summary>Pre-LN transformer block: x + attn(ln_1(x)), then x + mlp(ln_2(x)).</summary>
public sealed class ResidualAttentionBlock : nn.Module<Tensor, Tensor>
{
    readonly ClipAttention attn;
    readonly ClipLayerNorm ln_1;
    readonly ClipMlp mlp;
    readonly ClipLayerNorm ln_2;

    internal ClipAttention Attention => attn;
    internal ClipMlp Mlp => mlp;
    internal ClipLayerNorm AttentionNorm => ln_1;
    internal ClipLayerNorm MlpNorm => ln_2;

    public ResidualAttentionBlock(int width, int heads, bool causal, ClipActivation activation, double eps)
        : base(nameof(ResidualAttentionBlock))
    {
        attn = new ClipAttention(width, heads, causal);
        ln_1 = new ClipLayerNorm(width, eps);
        mlp = new ClipMlp(width, activation);
        ln_2 = new ClipLayerNorm(width, eps);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = x.add(attn.forward(ln_1.forward(x)), RootedScalars.One);
        h = h.add(mlp.forward(ln_2.forward(h)), RootedScalars.One);
        return h.MoveToOuterDisposeScope();
    }
}
