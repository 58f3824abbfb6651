using static TorchSharp.torch;

namespace Peft.Methods.CrossModal;

/// <summary>
/// AdamW on one tensor, written out as PyTorch 1.13's <c>torch.optim.AdamW</c> computes a step (<c>_single_tensor_adamw</c>,
/// no amsgrad, not capturable), operation for operation: decoupled decay θ ← θ·(1 − lr·wd); m ← β₁m + (1 − β₁)g;
/// v ← β₂v + (1 − β₂)g²; θ ← θ − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε). Betas and ε are the official
/// <c>build_adamw_optimizer</c>'s (engine/optimizer/optim.py ADAM_BETAS (0.9, 0.999), PyTorch's default eps 1e-8).
/// The learning rate is given per step (the scheduler's value), as PyTorch reads the group's lr at each step.
/// </summary>
sealed class AdamW : IDisposable
{
    public const double Beta1 = 0.9, Beta2 = 0.999, Eps = 1e-8;

    readonly Tensor _expAvg, _expAvgSq;
    int _step;

    public AdamW(Tensor parameter)
    {
        _expAvg = zeros_like(parameter).DetachFromDisposeScope();
        _expAvgSq = zeros_like(parameter).DetachFromDisposeScope();
    }

    public int Steps => _step;

    public void Step(Tensor parameter, Tensor grad, double lr, double weightDecay)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        _step++;
        parameter.mul_(1 - lr * weightDecay);
        _expAvg.mul_(Beta1).add_(grad, alpha: 1 - Beta1);
        _expAvgSq.mul_(Beta2).addcmul_(grad, grad, value: 1 - Beta2);
        double biasCorrection1 = 1 - Math.Pow(Beta1, _step);
        double biasCorrection2 = 1 - Math.Pow(Beta2, _step);
        double stepSize = lr / biasCorrection1;
        double biasCorrection2Sqrt = Math.Sqrt(biasCorrection2);
        var denom = (_expAvgSq.sqrt() / biasCorrection2Sqrt).add_(Eps);
        parameter.addcdiv_(_expAvg, denom, value: -stepSize);
    }

    public void Dispose()
    {
        _expAvg.Dispose();
        _expAvgSq.Dispose();
    }
}
