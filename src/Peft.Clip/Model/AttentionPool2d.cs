using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Clip.Model;

/// <summary>
/// ModifiedResNet's attention pooling: prepend the spatial mean, add positional embeddings, one multi-head
/// attention whose query is the mean token (separate q/k/v projections), then c_proj (openai/CLIP AttentionPool2d).
/// </summary>
public sealed class AttentionPool2d : nn.Module<Tensor, Tensor>
{
    readonly Parameter positional_embedding;
    readonly Linear k_proj;
    readonly Linear q_proj;
    readonly Linear v_proj;
    readonly Linear c_proj;
    readonly int _heads;

    public AttentionPool2d(int spatial, int embedDim, int heads, int outputDim) : base(nameof(AttentionPool2d))
    {
        positional_embedding = new Parameter(zeros(spatial * spatial + 1, embedDim), requires_grad: false);
        k_proj = nn.Linear(embedDim, embedDim);
        q_proj = nn.Linear(embedDim, embedDim);
        v_proj = nn.Linear(embedDim, embedDim);
        c_proj = nn.Linear(embedDim, outputDim);
        _heads = heads;
        RegisterComponents();
    }

    /// <param name="x">[N, C, H, W]</param>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long n = x.shape[0], c = x.shape[1];
        var tokens = x.flatten(2).transpose(1, 2);                        // [N, HW, C]
        tokens = cat([tokens.mean([1], keepdim: true), tokens], 1);       // [N, HW+1, C]
        tokens = tokens.add(positional_embedding.to(tokens.dtype), RootedScalars.One);
        long l = tokens.shape[1], dh = c / _heads;
        var q = q_proj.forward(tokens.narrow(1, 0, 1)).view(n, 1, _heads, dh).transpose(1, 2);
        var k = k_proj.forward(tokens).view(n, l, _heads, dh).transpose(1, 2);
        var v = v_proj.forward(tokens).view(n, l, _heads, dh).transpose(1, 2);
        var attended = nn.functional.scaled_dot_product_attention(q, k, v); // [N, H, 1, Dh]
        var pooled = attended.transpose(1, 2).reshape(n, c);
        return c_proj.forward(pooled).MoveToOuterDisposeScope();
    }
}
