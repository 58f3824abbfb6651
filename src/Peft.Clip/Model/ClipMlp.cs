using TorchSharp;
using TorchSharp.Modules;
using Peft.Core.Encoders;
using static TorchSharp.torch;

namespace Peft.Clip.Model;

/// <summary>Transformer MLP (<c>mlp.c_fc</c> → activation → <c>mlp.c_proj</c>), width → 4·width → width.</summary>
public sealed class ClipMlp : nn.Module<Tensor, Tensor>
{
    readonly Linear c_fc;
    readonly Linear c_proj;
    readonly ClipActivation _activation;

    /// <summary>Terms added to <c>c_fc</c> and <c>c_proj</c> (null: none), set by <see cref="TowerSiteMap"/>.</summary>
    internal ILinearDelta?[] Deltas { get; } = new ILinearDelta?[2];
    /// <summary>A copy of the frozen bias of <c>c_fc</c> (0) or <c>c_proj</c> (1).</summary>
    internal Tensor FrozenBias(int index) => (index == 0 ? c_fc.bias! : c_proj.bias!).detach().clone();

    public ClipMlp(int width, ClipActivation activation) : base(nameof(ClipMlp))
    {
        c_fc = nn.Linear(width, width * 4);
        c_proj = nn.Linear(width * 4, width);
        _activation = activation;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = ClipAttention.WithDelta(c_fc.forward(x), Deltas[0], x);
        // QuickGELU as in openai/CLIP: x * sigmoid(1.702 x).
        h = _activation == ClipActivation.QuickGelu ? h.mul(sigmoid(h.mul(RootedScalars.QuickGelu))) : nn.functional.gelu(h);
        return ClipAttention.WithDelta(c_proj.forward(h), Deltas[1], h).MoveToOuterDisposeScope();
    }
}
