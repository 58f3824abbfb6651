using Peft.Core.Optimization;
using static TorchSharp.torch;

namespace Peft.Tests.Methods;

public sealed class AdamTests
{
    [Fact]
    public void StepsAsTorchOptimAdamWithWeightDecayAndSkipsAParameterWithoutGradient()
    {
        var g = new Generator(5);
        using var start = randn([4, 3], generator: g);
        using var target = randn([4, 3], generator: g);
        using var ours = start.clone().requires_grad_(true);
        using var theirs = new TorchSharp.Modules.Parameter(start.clone(), requires_grad: true);
        using var adam = new Adam(ours, 0.9, 0.999, 1e-8, weightDecay: 5e-4);
        using var reference = optim.Adam([theirs], 2e-3, 0.9, 0.999, 1e-8, weight_decay: 5e-4);
        adam.Step(2e-3); // no gradient yet: nothing happens
        Assert.Equal(0, adam.Steps);
        for (int step = 0; step < 5; step++)
        {
            foreach (var (p, zero, update) in new (Tensor, Action, Action)[]
                     {
                         (ours, adam.ZeroGrad, () => adam.Step(2e-3)),
                         (theirs, () => reference.zero_grad(), () => reference.step()),
                     })
            {
                zero();
                using var loss = (p - target).pow(2).sum();
                loss.backward();
                update();
            }
        }
        Assert.Equal(5, adam.Steps);
        Assert.True(ours.allclose(theirs, rtol: 1e-6, atol: 1e-7), $"max difference {(ours - theirs).abs().max().item<float>()}");
        Assert.False(ours.allclose(start)); // it moved
    }
}
