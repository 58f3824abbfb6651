using Peft.Core.Encoders;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Methods.ClipLora;

/// <summary>
/// One LoRA pair on a frozen linear map: Δ(x) = scaling · dropout(x) Aᵀ Bᵀ with A [r, in], B [out, r] and scaling =
/// alpha/√r (loralib/layers.py LinearLoRA: <c>x @ (B @ A)ᵀ · scaling</c>, here as two thin products). A starts as
/// nn.Linear's default (kaiming_uniform with a = √5), B at zero, so the adapted towers start equal to the frozen ones.
/// Dropout is drawn from the cell's generator and only while <see cref="Training"/>.
/// </summary>
public sealed class LoraDelta : ILinearDelta, IDisposable
{
    public Parameter A { get; }
    public Parameter B { get; }
    public double Scaling { get; }
    public double Dropout { get; }
    /// <summary>Dropout on (training) or off (evaluation).</summary>
    public bool Training { get; set; }
    readonly Generator? _generator;

    public LoraDelta(int inFeatures, int outFeatures, int rank, double alpha, double dropout, Generator? generator)
    {
        if (rank < 1) throw new ArgumentOutOfRangeException(nameof(rank), rank, "rank must be at least 1");
        Scaling = alpha / Math.Sqrt(rank);
        Dropout = dropout;
        _generator = generator;
        // kaiming_uniform_(a=√5) on [r, in]: bound = gain·√(3/fan_in), gain = √(2/(1+a²)) = √(1/3), so bound = 1/√in.
        double bound = 1 / Math.Sqrt(inFeatures);
        using var noGrad = no_grad();
        A = new Parameter(empty(rank, inFeatures).uniform_(-bound, bound, generator), requires_grad: true);
        B = new Parameter(zeros(outFeatures, rank), requires_grad: true);
    }

    /// <summary>The branch in the input's dtype: A and B (fp32 master weights) are cast to it, as under the official
    /// code's autocast, so bf16 towers run it in bf16 instead of casting every activation to fp32 and back.</summary>
    public Tensor Delta(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = input;
        if (Training && Dropout > 0)
        {
            // nn.Dropout: zero with probability p, scale the kept by 1/(1-p).
            var keep = empty_like(x).bernoulli_(1 - Dropout, _generator);
            x = x.mul(keep).div(1 - Dropout);
        }
        return x.matmul(A.to(x.dtype).t()).matmul(B.to(x.dtype).t()).mul(Scaling).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        A.Dispose();
        B.Dispose();
    }
}
