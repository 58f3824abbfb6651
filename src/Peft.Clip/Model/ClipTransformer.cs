using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Clip.Model;

/// <summary>A stack of residual attention blocks (<c>resblocks.N.*</c>); causal for the text tower.</summary>
public sealed class ClipTransformer : nn.Module<Tensor, Tensor>
{
    readonly ModuleList<ResidualAttentionBlock> resblocks;

    public ClipTransformer(int width, int layers, int heads, bool causal, ClipActivation activation, double eps)
        : base(nameof(ClipTransformer))
    {
        resblocks = nn.ModuleList(Enumerable.Range(0, layers)
            .Select(_ => new ResidualAttentionBlock(width, heads, causal, activation, eps)).ToArray());
        RegisterComponents();
    }

    /// <param name="x">[N, L, D], batch first.</param>
    public override Tensor forward(Tensor x)
    {
        var h = x;
        foreach (var block in resblocks)
        {
            var next = block.forward(h);
            if (!ReferenceEquals(h, x)) h.Dispose();
            h = next;
        }
        return ReferenceEquals(h, x) ? x.alias() : h;
    }
}
