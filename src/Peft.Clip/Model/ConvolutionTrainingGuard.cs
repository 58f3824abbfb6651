using System.Globalization;
using Peft.Clip.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace Peft.Clip.Model;

/// <summary>
/// Guards training through an image tower's convolutions (pretraining a tiny CLIP). <see cref="ConvolutionCheck"/>
/// checks eval-mode forwards only, and backward kernels can be wrong too: on a 2-core AMD EPYC VM that reports no
/// cache sizes, libtorch 2.10's oneDNN NCHW convolution backward gave a tiny ResNet a BatchNorm-bias gradient 159% off
/// float64 with 1 thread and NaN on alternate calls with 2 threads, while libtorch's reference kernels (oneDNN off)
/// match float64 to 5e-5. So the guard (1) turns oneDNN off for the training on CPUs that report no cache sizes, and
/// (2) on every CPU compares the tower's parameter gradients for a real batch, three times (the wrong kernel is
/// intermittent), with those of a float64 copy; on a mismatch it turns oneDNN off, says so, and checks again.
/// The model itself is not touched (the copies carry their own BatchNorm statistics). Dispose restores oneDNN.
/// </summary>
public sealed class ConvolutionTrainingGuard : IDisposable
{
    /// <summary>Relative gradient error (per parameter, Frobenius) above which the training path is wrong.</summary>
    public static double Tolerance(ScalarType dtype) => dtype == ScalarType.Float32 ? 1e-2 : 1e-1;

    /// <summary>Test hook: applied to the checked (non-float64) copy's gradients (to prove a wrong kernel is caught).</summary>
    internal static Func<Tensor, Tensor>? GradientFaultForTest { get; set; }

    /// <summary>How often the gradients are compared: the faulty kernel seen so far was right on some calls only.</summary>
    const int Repeats = 3;

    readonly bool _restoreOneDnn;

    /// <summary>The gradient comparisons made, in order (configuration, worst relative error and where).</summary>
    public IReadOnlyList<ConvolutionCheck.Verdict> Verdicts { get; }

    /// <summary>Whether training runs with oneDNN off (and why), or null when it stays on.</summary>
    public string? OneDnnOffReason { get; }

    ConvolutionTrainingGuard(bool restoreOneDnn, List<ConvolutionCheck.Verdict> verdicts, string? offReason)
        => (_restoreOneDnn, Verdicts, OneDnnOffReason) = (restoreOneDnn, verdicts, offReason);

    /// <param name="build">Builds an untrained copy of the tower (same configuration).</param>
    /// <param name="tower">The tower being trained; only its state is read.</param>
    /// <param name="layout">The layout the tower's convolutions use (the copies use it too).</param>
    /// <param name="batch">A real training batch in the tower's dtype.</param>
    /// <param name="offOnCpusWithoutCaches">False only in tests that need oneDNN to start on.</param>
    internal static ConvolutionTrainingGuard Start(Func<nn.Module<Tensor, Tensor>> build, nn.Module<Tensor, Tensor> tower,
        ConvolutionLayout layout, Tensor batch, bool offOnCpusWithoutCaches = true)
    {
        bool wasOn = LibTorchContext.MkldnnEnabled == true;
        string? offReason = null;
        if (wasOn && offOnCpusWithoutCaches && !CpuCacheInfo.Current.Reported && LibTorchContext.SetMkldnn(false))
        {
            offReason = "CPU reports no cache sizes";
            ConvolutionCheck.Log("peft: this CPU reports no cache sizes; training runs the convolutions with oneDNN off " +
                "(its NCHW backward computes wrong gradients on such CPUs)");
        }
        var verdicts = new List<ConvolutionCheck.Verdict>();
        try
        {
            while (true)
            {
                var verdict = Compare(build, tower, layout, batch);
                verdicts.Add(verdict);
                if (verdict.Ok) return new ConvolutionTrainingGuard(wasOn && LibTorchContext.MkldnnEnabled == false, verdicts, offReason);
                string what = string.Create(CultureInfo.InvariantCulture,
                    $"training self-check: the gradient of {verdict.WorstConvolution} in [{verdict.Configuration}] differs from float64 by {verdict.WorstError:P1}");
                if (LibTorchContext.MkldnnEnabled == true && LibTorchContext.SetMkldnn(false))
                {
                    offReason = what;
                    ConvolutionCheck.Log($"peft: {what}; training with oneDNN off (slower)");
                    continue;
                }
                throw new InvalidOperationException($"peft: {what}, and no other convolution path is left to try. This machine's " +
                    "libtorch computes wrong gradients; please report it with the output of 'peft info'.");
            }
        }
        catch
        {
            if (wasOn) LibTorchContext.SetMkldnn(true);
            throw;
        }
    }

    static ConvolutionCheck.Verdict Compare(Func<nn.Module<Tensor, Tensor>> build, nn.Module<Tensor, Tensor> tower,
        ConvolutionLayout layout, Tensor batch)
    {
        using var scope = NewDisposeScope();
        var state = tower.state_dict();
        var single = Copy(build, state, layout, batch.dtype);
        var reference = Copy(build, state, layout, ScalarType.Float64);
        string configuration = string.Create(CultureInfo.InvariantCulture,
            $"{(layout == ConvolutionLayout.ChannelsLast ? "channels-last" : "nchw")}, oneDNN {(LibTorchContext.MkldnnEnabled == false ? "off" : "on")}, " +
            $"{batch.dtype}, batch {batch.shape[0]}, {batch.shape[2]}x{batch.shape[3]}, {get_num_threads()} threads, training");
        using var g = new Generator(0);
        double worst = 0;
        string worstName = "no parameter";
        var x64 = batch.to(ScalarType.Float64);
        Tensor? upstream = null;
        for (int rep = 0; rep < Repeats; rep++)
        {
            var y = single.forward(batch);
            upstream ??= randn(y.shape, generator: g);
            (y.to(ScalarType.Float32) * upstream).sum().backward();
            (reference.forward(x64) * upstream.to(ScalarType.Float64)).sum().backward();
            var expected = reference.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!);
            var got = single.named_parameters().Where(p => p.parameter.grad is not null)
                .Select(p => (p.name, grad: GradientFaultForTest is { } f ? f(p.parameter.grad!) : p.parameter.grad!))
                .ToList();
            // Gradients that are zero in exact arithmetic (the attention pool's key bias) are judged against the
            // largest gradient, not their own rounding noise.
            double floor = 1e-3 * expected.Values.Max(e => e.norm().item<double>());
            foreach (var (name, grad) in got)
            {
                var e = expected[name];
                double error = grad.to(ScalarType.Float64).sub(e).norm().item<double>() / Math.Max(e.norm().item<double>(), Math.Max(floor, 1e-30));
                if (double.IsNaN(error)) error = double.PositiveInfinity;
                if (error > worst || worstName == "no parameter") (worst, worstName) = (error, name);
            }
            foreach (var p in single.parameters().Concat(reference.parameters())) p.grad?.zero_();
        }
        int count = single.parameters().Count();
        single.Dispose();
        reference.Dispose();
        return new ConvolutionCheck.Verdict(configuration, worst, worstName, count, worst <= Tolerance(batch.dtype));
    }

    static nn.Module<Tensor, Tensor> Copy(Func<nn.Module<Tensor, Tensor>> build, Dictionary<string, Tensor> state,
        ConvolutionLayout layout, ScalarType dtype)
    {
        var copy = build();
        if (copy is ModifiedResNet resnet) resnet.Check.UseLayout(layout);
        copy.load_state_dict(state);
        copy.to(dtype);
        foreach (var p in copy.parameters()) p.requires_grad = true;
        copy.train();
        return copy;
    }

    public void Dispose()
    {
        if (_restoreOneDnn) LibTorchContext.SetMkldnn(true);
    }
}
