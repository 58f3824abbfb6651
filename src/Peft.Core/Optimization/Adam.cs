using TorchSharp;
using static TorchSharp.torch;

namespace Peft.Core.Optimization;

/// <summary>
/// torch.optim.Adam (PyTorch 1.13 <c>_single_tensor_adam</c>, L2 weight decay added to the gradient, no AMSGrad) on one
/// leaf tensor: g = ∇ + wd·p; m = β₁m + (1−β₁)g; v = β₂v + (1−β₂)g²; p −= lr/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + ε).
/// Written out rather than TorchSharp's <c>optim.Adam</c> because that one passes temporary <see cref="Scalar"/>s
/// (implicit conversions from double) to native calls: a Scalar holds a raw handle freed by its finalizer, so a garbage
/// collection triggered by another thread during the call can free it while libtorch reads it (seen once in 495
/// quickstart cells as "Expected false to be true" from <c>Scalar::toFloat</c>). Every Scalar here is a local that
/// lives, and is disposed, after the last native call that reads it.
/// </summary>
/// <param name="decoupled">torch.optim.AdamW instead: the decay is applied to the parameter, p *= 1 − lr·wd, before the
/// Adam update of the plain gradient (1.13 <c>_single_tensor_adamw</c>).</param>
/// <param name="decayAnchor">With <paramref name="decoupled"/>: the parameter is a shift Δ of a frozen tensor b, and the decay
/// acts on the tensor the official code trains, b + Δ: Δ −= lr·wd·(b + Δ) (so BitFit's bias deltas decay as the biases would).</param>
public sealed class Adam(Tensor parameter, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0,
    bool decoupled = false, Tensor? decayAnchor = null) : IDisposable
{
    readonly Tensor _m = zeros_like(parameter).DetachFromDisposeScope();
    readonly Tensor _v = zeros_like(parameter).DetachFromDisposeScope();
    long _step;

    public long Steps => _step;

    /// <summary>One step at learning rate <paramref name="lr"/>; a parameter without a gradient is left as it is (as PyTorch).</summary>
    public void Step(double lr)
    {
        if (parameter.grad is not { } grad) return;
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        _step++;
        double bias1 = 1 - Math.Pow(beta1, _step), bias2 = 1 - Math.Pow(beta2, _step);
        using Scalar one = 1.0, decay = weightDecay, b1 = beta1, keep1 = 1 - beta1, b2 = beta2, keep2 = 1 - beta2,
            epsilon = eps, bias2Sqrt = Math.Sqrt(bias2), stepSize = -(lr / bias1), shrink = 1 - lr * weightDecay;
        if (decoupled && weightDecay != 0)
        {
            if (decayAnchor is null) parameter.mul_(shrink);
            else
            {
                using Scalar rate = -lr * weightDecay;
                parameter.add_(parameter.add(decayAnchor.to(parameter.dtype)), rate);
            }
        }
        var g = weightDecay != 0 && !decoupled ? grad.add(parameter, decay) : grad;
        _m.mul_(b1).add_(g, keep1);
        _v.mul_(b2).addcmul_(g, g, keep2);
        var denominator = _v.sqrt().div_(bias2Sqrt).add_(epsilon, one);
        parameter.addcdiv_(_m, denominator, stepSize);
    }

    /// <summary>Zeroes the parameter's gradient (optimizer.zero_grad()).</summary>
    public void ZeroGrad() => parameter.grad?.zero_();

    public void Dispose()
    {
        _m.Dispose();
        _v.Dispose();
    }
}
