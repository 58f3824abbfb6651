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
    /// <summary>Checkpoint each block while gradients are recorded (null: off), set by <see cref="TowerSiteMap"/>.</summary>
    internal BlockCheckpointing? Checkpointing { get; set; }
    /// <summary>Attaches the checkpointing adaptation again if its scope has ended (null when it is still attached): a
    /// backward may run after the scope that ran forward, and the recomputation must see the same deltas.</summary>
    internal Func<IDisposable?>? Reattach { get; set; }
    Tensor? _anchor;

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
        bool checkpoint = Checkpointing is not null && is_grad_enabled();
        var reattach = Reattach;
        for (int i = 0; i < resblocks.Count; i++)
        {
            int block = i;
            Tensor Segment(Tensor input)
            {
                using var again = reattach?.Invoke();
                return Block(block, input, input);
            }
            var next = checkpoint
                ? BlockCheckpoint.Run(h, Segment, Checkpointing!, _anchor ??= zeros(1).requires_grad_(true).DetachFromDisposeScope())
                : Block(i, h, x);
            if (!ReferenceEquals(h, x)) h.Dispose();
            h = next;
        }
        return ReferenceEquals(h, x) ? x.alias() : h;
    }

    /// <summary>Block <paramref name="i"/> with its input transform; intermediate tensors other than <paramref name="keep"/> are disposed.</summary>
    Tensor Block(int i, Tensor h, Tensor keep)
    {
        if (BeforeBlock[i] is { } transform)
        {
            var transformed = transform.Transform(h).to(h.dtype);
            var output = resblocks[i].forward(transformed);
            if (!ReferenceEquals(transformed, keep)) transformed.Dispose();
            return output;
        }
        return resblocks[i].forward(h);
    }
}
