using static TorchSharp.torch;

namespace Peft.Core.Prompting;

/// <summary>
/// torch.optim.SGD (dampening 0, no Nesterov) over leaf tensors, as Dassl builds it for the prompt learners:
/// d = g + wd·p; buf = d on the first step, else m·buf + d; p −= lr·buf. A tensor without a gradient is skipped, as
/// PyTorch does. Gradients are zeroed after the step. Every <see cref="TorchSharp.Scalar"/> is a local disposed after the
/// last native call that reads it (see <see cref="Optimization.Adam"/> for why temporaries are not safe).
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
            using TorchSharp.Scalar decay = weightDecay, m = momentum, one = 1.0, step = -lr;
            var d = grad.add(p, decay);
            if (_buffers[i] is { } buffer) buffer.mul_(m).add_(d, one);
            else _buffers[i] = d.detach().clone().DetachFromDisposeScope();
            p.add_(_buffers[i]!, step);
            grad.zero_();
        }
    }

    public void Dispose()
    {
        foreach (var b in _buffers) b?.Dispose();
    }
}
