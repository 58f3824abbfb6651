using TorchSharp;
using TorchSharp.Modules;
using Peft.Core.Encoders;
using static TorchSharp.torch;

namespace Peft.Clip.Model;

/// <summary>A stack of residual attention blocks (<c>resblocks.N.*</c>); causal for the text tower.</summary>
public sealed class ClipTransformer : nn.Module<Tensor, Tensor>
{
    readonly ModuleList<ResidualAttentionBlock> resblocks;

    internal IReadOnlyList<ResidualAttentionBlock> Blocks => resblocks.ToList();
    /// <summary>Transforms of each block's input sequence (null: none), set by <see cref="TowerSiteMap"/>.</summary>
    internal ITokenTransform?[] BeforeBlock { get; }

    public ClipTransformer(int width, int layers, int heads, bool causal, ClipActivation activation, double eps)
        : base(nameof(ClipTransformer))
    {
        resblocks = nn.ModuleList(Enumerable.Range(0, layers)
            .Select(_ => new ResidualAttentionBlock(width, heads, causal, activation, eps)).ToArray());
        BeforeBlock = new ITokenTransform?[layers];
        RegisterComponents();
    }

    /// <param name="x">[N, L, D], batch first.</param>
    public override Tensor forward(Tensor x)
    {
        var h = x;
        for (int i = 0; i < resblocks.Count; i++)
        {
            if (BeforeBlock[i] is { } transform)
            {
                var transformed = transform.Transform(h).to(h.dtype);
                if (!ReferenceEquals(h, x)) h.Dispose();
                h = transformed;
            }
            var next = resblocks[i].forward(h);
            if (!ReferenceEquals(h, x)) h.Dispose();
            h = next;
        }
        return ReferenceEquals(h, x) ? x.alias() : h;
    }
}
