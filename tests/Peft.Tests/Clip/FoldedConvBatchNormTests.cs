using Peft.Clip.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace Peft.Tests.Clip;

public class FoldedConvBatchNormTests
{
    [Theory]
    [InlineData(1, 0, ScalarType.Float32, 1e-5)]
    [InlineData(2, 1, ScalarType.Float32, 1e-5)]
    [InlineData(1, 1, ScalarType.BFloat16, 2e-2)]
    public void EqualsConvolutionThenEvalBatchNorm(int stride, int padding, ScalarType type, double tolerance)
    {
        using var scope = NewDisposeScope();
        var g = new Generator(11);
        using var conv = nn.Conv2d(6, 8, 3, stride: stride, padding: padding, bias: false);
        using var bn = nn.BatchNorm2d(8);
        using (no_grad())
        {
            conv.weight!.copy_(randn(conv.weight.shape, generator: g) * 0.3);
            bn.weight!.copy_(rand(8, generator: g) + 0.5);
            bn.bias!.copy_(randn(8, generator: g));
            bn.running_mean!.copy_(randn(8, generator: g));
            bn.running_var!.copy_(rand(8, generator: g) + 0.1);
        }
        bn.eval();
        conv.to(type);
        bn.to(type);
        var x = randn([2, 6, 9, 9], generator: g).to(type);
        using var folded = new FoldedConvBatchNorm(conv, bn, stride, padding);
        using var noGrad = no_grad();
        var expected = bn.forward(conv.forward(x)).to(ScalarType.Float32);
        var actual = folded.Forward(x).to(ScalarType.Float32);
        double error = (actual - expected).norm().item<float>() / expected.norm().item<float>();
        Assert.True(error < tolerance, $"relative error {error:E2}");
    }
}
