using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Methods.ClipAdapter;

/// <summary>
/// The released adapter (clip_adapter.py <c>Adapter</c>): Linear(D → D/r, bias=False) → ReLU →
/// Linear(D/r → D, bias=False) → ReLU. Weights are stored as PyTorch stores them: down [D/r, D], up [D, D/r].
/// </summary>
sealed class BottleneckAdapter : IDisposable
{
    public Parameter Down { get; }
    public Parameter Up { get; }

    public BottleneckAdapter(Tensor down, Tensor up)
    {
        if (down.dim() != 2 || up.dim() != 2 || down.shape[0] != up.shape[1] || down.shape[1] != up.shape[0])
            throw new ArgumentException($"adapter shapes down [{string.Join(",", down.shape)}], up [{string.Join(",", up.shape)}] do not fit");
        Down = new Parameter(down.to(ScalarType.Float32).detach().clone());
        Up = new Parameter(up.to(ScalarType.Float32).detach().clone());
    }

    /// <summary>
    /// PyTorch's default nn.Linear initialisation (kaiming_uniform with a = √5, i.e. U(−1/√fan_in, 1/√fan_in)),
    /// which the released code keeps; drawn from <paramref name="generator"/>, down then up.
    /// </summary>
    public static BottleneckAdapter Initialise(int dim, int reduction, Generator generator)
    {
        int hidden = dim / reduction; // c_in // reduction, as in the released code
        if (hidden < 1) throw new ArgumentException($"reduction {reduction} leaves no hidden unit for D = {dim}");
        using var noGrad = no_grad();
        using var down = empty(hidden, dim).uniform_(-1 / Math.Sqrt(dim), 1 / Math.Sqrt(dim), generator);
        using var up = empty(dim, hidden).uniform_(-1 / Math.Sqrt(hidden), 1 / Math.Sqrt(hidden), generator);
        return new BottleneckAdapter(down, up);
    }

    public long ParameterCount => Down.numel() + Up.numel();

    public IEnumerable<Parameter> Parameters => [Down, Up];

    /// <summary>
    /// A(x) = ReLU(ReLU(x · downᵀ) · upᵀ), the products in <paramref name="compute"/> (bf16: on bf16 copies of x and the
    /// fp32 weights, which receive fp32 gradients through the casts), the result in fp32.
    /// </summary>
    public Tensor Forward(Tensor x, ScalarType compute = ScalarType.Float32)
    {
        using var scope = NewDisposeScope();   // in fp32 every cast below is the tensor itself
        var hidden = nn.functional.relu(x.to(compute).matmul(Down.to(compute).t()));
        return nn.functional.relu(hidden.matmul(Up.to(compute).t())).to(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    /// <summary>Residual blending of the released code: ratio · A(x) + (1 − ratio) · x (the blend in fp32).</summary>
    public Tensor Blend(Tensor x, double ratio, ScalarType compute = ScalarType.Float32)
    {
        using var scope = NewDisposeScope();
        return (Forward(x, compute) * ratio + x * (1 - ratio)).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        Down.Dispose();
        Up.Dispose();
    }
}
