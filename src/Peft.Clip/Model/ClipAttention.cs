using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Clip.Model;

/// <summary>
/// Multi-head self-attention with PyTorch's packed parameter names (<c>in_proj_weight</c> rows = [q; k; v],
/// <c>in_proj_bias</c>, <c>out_proj</c>) so OpenAI keys load as they are. Batch-first; computed with
/// linear + scaled_dot_product_attention (same numbers as nn.MultiheadAttention, measured faster in TorchSharp).
/// </summary>
public sealed class ClipAttention : nn.Module<Tensor, Tensor>
{
    readonly Parameter in_proj_weight;
    readonly Parameter in_proj_bias;
    readonly Linear out_proj;
    readonly int _heads;
    readonly bool _causal;

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
        var qkv = nn.functional.linear(x, in_proj_weight, in_proj_bias)
            .view(n, l, 3, _heads, d / _heads).permute(2, 0, 3, 1, 4); // [3, N, H, L, Dh]
        var attended = nn.functional.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], is_casual: _causal);
        var merged = attended.transpose(1, 2).reshape(n, l, d);
        return out_proj.forward(merged).MoveToOuterDisposeScope();
    }
}
