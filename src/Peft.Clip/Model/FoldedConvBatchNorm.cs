using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Clip.Model;

/// <summary>
/// A bias-free convolution followed by a BatchNorm; in eval mode computed as one convolution with folded weights
/// (w·γ/√(σ²+ε), β − μ·γ/√(σ²+ε)). Saves a full pass over every activation map of the frozen ResNet. The
/// modules keep their own parameters (and state_dict names); the folded copy is rebuilt when their dtype changes.
/// </summary>
sealed class FoldedConvBatchNorm(Conv2d conv, BatchNorm2d norm, long stride = 1, long padding = 0) : IDisposable
{
    Tensor? _weight, _bias;

    public Tensor Forward(Tensor x)
    {
        // Training (pretraining a tiny CLIP): batch statistics, as conv → BatchNorm in train mode; the folded copy
        // is dropped because the weights and running statistics change.
        if (norm.training)
        {
            Dispose();
            return norm.forward(conv.forward(x));
        }
        // Refolded when the weights change dtype or layout (ConvolutionCheck may switch the tower to NCHW).
        if (_weight is null || _weight.dtype != conv.weight!.dtype || !_weight.stride().SequenceEqual(conv.weight.stride())) Fold();
        return ConvolutionCheck.Conv2d(x, _weight!, _bias, stride, padding);
    }

    void Fold()
    {
        Dispose();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var w = conv.weight!;
        var scale = norm.weight!.to(ScalarType.Float32) / norm.running_var!.to(ScalarType.Float32).add(RootedScalars.BatchNormEps, RootedScalars.One).sqrt();
        var folded = w.to(ScalarType.Float32) * scale.view(-1, 1, 1, 1);
        // Keep the weight's memory layout (channels-last or NCHW) so the convolution picks the same kernel.
        _weight = empty_strided(w.shape, w.stride(), w.dtype).copy_(folded).DetachFromDisposeScope();
        _bias = (norm.bias!.to(ScalarType.Float32) - norm.running_mean!.to(ScalarType.Float32) * scale).to(w.dtype).DetachFromDisposeScope();
    }

    public void Dispose()
    {
        _weight?.Dispose();
        _bias?.Dispose();
        _weight = _bias = null;
    }
}
