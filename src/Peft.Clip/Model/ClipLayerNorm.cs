using TorchSharp;
using TorchSharp.Modules;
using Peft.Core.Encoders;
using static TorchSharp.torch;

namespace Peft.Clip.Model;

/// <summary>LayerNorm computed in fp32 and cast back, as openai/CLIP's LayerNorm subclass does for fp16 (also used for bf16).</summary>
public sealed class ClipLayerNorm : nn.Module<Tensor, Tensor>
{
    readonly Parameter weight;
    readonly Parameter bias;
    readonly long[] _shape;
    readonly double _eps;

    /// <summary>Shifts of γ and β (null: none), set by <see cref="TowerSiteMap"/>.</summary>
    internal INormDelta? Delta { get; set; }
    internal int Width => (int)_shape[0];
    /// <summary>Copies of the frozen γ and β.</summary>
    internal (Tensor Weight, Tensor Bias) Frozen => (weight.detach().clone(), bias.detach().clone());

    public ClipLayerNorm(long width, double eps) : base(nameof(ClipLayerNorm))
    {
        weight = new Parameter(ones(width), requires_grad: false);
        bias = new Parameter(zeros(width), requires_grad: false);
        _shape = [width];
        _eps = eps;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        if (Delta is { } delta)
        {
            using var deltaScope = NewDisposeScope();
            var w = delta.Weight is null ? weight.to(ScalarType.Float32) : weight.to(ScalarType.Float32).add(delta.Weight.to(ScalarType.Float32));
            var b = delta.Bias is null ? bias.to(ScalarType.Float32) : bias.to(ScalarType.Float32).add(delta.Bias.to(ScalarType.Float32));
            return nn.functional.layer_norm(x.to(ScalarType.Float32), _shape, w, b, _eps).to(x.dtype).MoveToOuterDisposeScope();
        }
        if (x.dtype == ScalarType.Float32 && weight.dtype == ScalarType.Float32)
            return nn.functional.layer_norm(x, _shape, weight, bias, _eps);
        using var scope = NewDisposeScope();
        var y = nn.functional.layer_norm(x.to(ScalarType.Float32), _shape, weight.to(ScalarType.Float32), bias.to(ScalarType.Float32), _eps);
        return y.to(x.dtype).MoveToOuterDisposeScope();
    }
}
