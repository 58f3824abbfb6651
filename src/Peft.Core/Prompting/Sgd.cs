using static TorchSharp.torch;

namespace Peft.Core.Prompting;

/// <summary>
/// torch.optim.SGD (dampening 0, no Nesterov) over leaf tensors, as Dassl builds it for the prompt learners:
/// d = g + wd·p; buf = d on the first step, else m·buf + d; p −= lr·buf. A tensor without a gradient is skipped, as
/// PyTorch does. Gradients are zeroed after the step.
/// </summary>
public sealed class Sgd(IReadOnlyList<Tensor> parameters, double momentum, double weightDecay) : IDisposable
{
    readonly Tensor?[] _buffers = new Tensor?[parameters.Count];

    public void Step(double lr)
    {
        using var noGrad = no_grad();
        for (int i = 0; i < parameters.Count; i++)
        {
            using var scope = NewDisposeScope();
            var p = parameters[i];
            if (p.grad is not { } grad) continue;
            var d = grad + p * weightDecay;
            if (_buffers[i] is { } buffer) buffer.mul_(momentum).add_(d);
            else _buffers[i] = d.detach().clone().DetachFromDisposeScope();
            p.sub_(_buffers[i]! * lr);
            grad.zero_();
        }
    }

    public void Dispose()
    {
        foreach (var b in _buffers) b?.Dispose();
    }
}
