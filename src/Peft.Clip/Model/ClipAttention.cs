using TorchSharp;
using TorchSharp.Modules;
using Peft.Core.Encoders;
using static TorchSharp.torch;

namespace Peft.Clip.Model;

/// <summary>
/// Multi-head self-attention with PyTorch's packed parameter names (<c>in_proj_weight</c> rows = [q; k; v],
/// <c>in_proj_bias</c>, <c>out_proj</c>) so OpenAI keys load as they are. Batch-first; computed with
/// linear + scaled_dot_product_attention (same numbers as nn.MultiheadAttention, measured faster in TorchSharp).
/// Encoder-level methods may add terms to the q, k, v and output projections (<see cref="Deltas"/>); with none attached
/// the computation is the frozen one, operation for operation.
/// </summary>
public sealed class ClipAttention : nn.Module<Tensor, Tensor>
{
    readonly Parameter in_proj_weight;
    readonly Parameter in_proj_bias;
    readonly Linear out_proj;
    readonly int _heads;
    readonly bool _causal;

    /// <summary>Terms added to the q, k, v and output projections (null: none), set by <see cref="TowerSiteMap"/>.</summary>
    internal ILinearDelta?[] Deltas { get; } = new ILinearDelta?[4];
    internal int Width => (int)out_proj.weight!.shape[0];
    /// <summary>A copy of the frozen bias of projection q (0), k (1), v (2) or output (3).</summary>
    internal Tensor FrozenBias(int index) =>
        (index < 3 ? in_proj_bias.narrow(0, index * Width, Width) : out_proj.bias!).detach().clone();

    public ClipAttention(int width, int heads, bool causal) : base(nameof(ClipAttention))
    {
        in_proj_weight = new Parameter(empty(3 * width, width), requires_grad: false);
        in_proj_bias = new Parameter(zeros(3 * width), requires_grad: false);
        out_proj = nn.Linear(width, width);
        _heads = heads;
        _causal = causal;
        RegisterComponents();
    }

    /// <param name="x">[N, L, D]</param>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long n = x.shape[0], l = x.shape[1], d = x.shape[2];
        var packed = nn.functional.linear(x, in_proj_weight, in_proj_bias);
        Tensor attended;
        if (Deltas[0] is null && Deltas[1] is null && Deltas[2] is null)
        {
            var qkv = packed.view(n, l, 3, _heads, d / _heads).permute(2, 0, 3, 1, 4); // [3, N, H, L, Dh]
            attended = nn.functional.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], is_casual: _causal);
        }
        else
        {
            var parts = packed.chunk(3, -1);
            var heads = new Tensor[3];
            for (int i = 0; i < 3; i++)
                heads[i] = WithDelta(parts[i], Deltas[i], x).reshape(n, l, _heads, d / _heads).transpose(1, 2); // [N, H, L, Dh]
            attended = nn.functional.scaled_dot_product_attention(heads[0], heads[1], heads[2], is_casual: _causal);
        }
        var merged = attended.transpose(1, 2).reshape(n, l, d);
        return WithDelta(out_proj.forward(merged), Deltas[3], merged).MoveToOuterDisposeScope();
    }

    /// <summary>y + Δ(x) in y's dtype, or y when there is no delta.</summary>
    internal static Tensor WithDelta(Tensor y, ILinearDelta? delta, Tensor x) =>
        delta is null ? y : y.add(delta.Delta(x).to(y.dtype), RootedScalars.One);
}
