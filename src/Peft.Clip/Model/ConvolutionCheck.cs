using System.Globalization;
using Peft.Clip.Native;
using Peft.Core.Diagnostics;
using static TorchSharp.torch;

namespace Peft.Clip.Model;

/// <summary>Memory layout of an image tower's convolutions (libtorch picks its kernels from the strides).</summary>
public enum ConvolutionLayout { ChannelsLast, Nchw }

/// <summary>
/// Guards an image tower against convolution kernels that compute wrong values on this machine. libtorch 2.10's oneDNN
/// picks kernels by shape, layout, dtype, batch and thread split; on some CPUs one of them is wrong (oneDNN 3.7's
/// channels-last <c>brgconv_1x1</c> on AMD EPYC VMs: ~15% error at ≥128 input channels) and a tiny model's parity test
/// never reaches it. So the first forward of every (layout, dtype, batch, image size, threads) combination is checked:
/// each distinct convolution's output for the first, middle and last image is compared with a float64 computation
/// (libtorch's reference kernels; oneDNN has no float64). On a mismatch the tower switches to the next configuration
/// (channels-last → NCHW → NCHW with oneDNN off), says so once, and recomputes; only checked outputs are returned.
/// Training-mode forwards are checked by <see cref="ConvolutionTrainingGuard"/> instead.
/// </summary>
public sealed class ConvolutionCheck
{
    /// <summary><c>channels-last</c> or <c>nchw</c>: the starting layout, instead of the one chosen from the CPU.</summary>
    public const string LayoutVariable = "PEFT_CONV_LAYOUT";

    /// <summary>Where messages go (once per switch); stderr by default.</summary>
    public static Action<string> Log { get; set; } = m => PeftLog.Line(typeof(ConvolutionCheck).FullName!, m);

    /// <summary>Relative error (Frobenius, per convolution) above which a kernel is wrong: ~100x the rounding of the dtype's sums.</summary>
    public static double Tolerance(ScalarType dtype) => dtype switch { ScalarType.Float64 => 1e-9, ScalarType.Float32 => 1e-3, _ => 3e-2 };

    /// <summary>The outcome of checking one configuration; <see cref="WorstConvolution"/> names the convolution with the largest error.</summary>
    public sealed record Verdict(string Configuration, double WorstError, string WorstConvolution, int Convolutions, bool Ok);

    /// <summary>Test hook: applied to every convolution output in the given layout (to prove a wrong kernel is caught).</summary>
    internal static (ConvolutionLayout Layout, Func<Tensor, Tensor> Corrupt)? FaultForTest { get; set; }

    // libtorch tries NNPACK before oneDNN for some convolutions and, on CPUs NNPACK does not support, prints
    // "Could not initialize NNPACK! Reason: Unsupported hardware" at every call (dozens per bf16 encode).
    static ConvolutionCheck() => LibTorchContext.DisableNnpack();

    [ThreadStatic] static Probe? _probe;
    static int _announcedCpu;

    readonly Action<ConvolutionLayout> _apply;
    readonly bool _layoutMatters;
    readonly HashSet<string> _verified = [];
    readonly List<Verdict> _verdicts = [];
    readonly object _gate = new();

    /// <param name="apply">Puts the tower's weights into a layout.</param>
    /// <param name="layoutMatters">False for a tower with one NCHW patch convolution (ViT): only oneDNN on/off is tried.</param>
    internal ConvolutionCheck(Action<ConvolutionLayout> apply, bool layoutMatters)
    {
        _apply = apply;
        _layoutMatters = layoutMatters;
        (Layout, Reason) = layoutMatters ? InitialLayout() : (ConvolutionLayout.Nchw, "patch convolution");
        // With no cache sizes oneDNN also blocks NCHW convolutions badly for large inputs: RN50 fp32 on a 2-core EPYC VM
        // runs 14-16 img/s at batch 1-8 but 5.3 at 16 and 4.1 at 32 (bf16: 18 vs 8.2), so batches go through in 8s.
        MicroBatch = MicroBatchFor(layoutMatters);
    }

    /// <summary>The eval micro-batch of a tower on this CPU (0 = no split).</summary>
    public static int MicroBatchFor(bool resNet) => resNet && !CpuCacheInfo.Current.Reported ? 8 : 0;

    /// <summary>Largest batch the tower computes at once in eval mode (0 = any): larger ones are split, same values.</summary>
    public int MicroBatch { get; }

    /// <summary>Puts the tower into <paramref name="layout"/> as a failed check would (tests; copies of a checked tower).</summary>
    internal void UseLayout(ConvolutionLayout layout)
    {
        lock (_gate)
        {
            Layout = layout;
            _apply(layout);
        }
    }

    /// <summary>The layout the tower computes in now.</summary>
    public ConvolutionLayout Layout { get; private set; }

    /// <summary>Why <see cref="Layout"/> was chosen (CPU caches, environment, or a failed check).</summary>
    public string Reason { get; private set; }

    /// <summary>Every configuration checked so far, in order.</summary>
    public IReadOnlyList<Verdict> Verdicts { get { lock (_gate) return _verdicts.ToList(); } }

    /// <summary>
    /// Channels-last is oneDNN's fastest path for the ResNet (RN50 +15% fp32 where it works); on a CPU that reports no
    /// cache sizes its 1x1 kernel dies with SIGFPE — which no check can catch — so such machines start in NCHW.
    /// </summary>
    public static (ConvolutionLayout Layout, string Reason) InitialLayout()
    {
        switch (Environment.GetEnvironmentVariable(LayoutVariable)?.Trim().ToLowerInvariant())
        {
            case "nchw": return (ConvolutionLayout.Nchw, $"{LayoutVariable}=nchw");
            case "channels-last": return (ConvolutionLayout.ChannelsLast, $"{LayoutVariable}=channels-last");
            case null or "": break;
            case var other: throw new ArgumentException($"{LayoutVariable}='{other}': use 'channels-last' or 'nchw'");
        }
        var cpu = CpuCacheInfo.Current;
        if (cpu.Reported) return (ConvolutionLayout.ChannelsLast, "CPU reports its caches");
        if (Interlocked.Exchange(ref _announcedCpu, 1) == 0)
            Log($"peft: this CPU reports no cache sizes ({cpu}); ResNet convolutions run in NCHW layout, not channels-last " +
                "(oneDNN's channels-last 1x1 kernel crashes or computes wrong values on such CPUs)");
        return (ConvolutionLayout.Nchw, "CPU reports no cache sizes");
    }

    /// <summary>Runs <paramref name="forward"/> on <paramref name="x"/>, checking the configuration first if this combination is new.</summary>
    internal Tensor Run(Tensor x, Func<Tensor, Tensor> forward)
    {
        lock (_gate)
        {
            while (true)
            {
                string key = Key(x);
                if (_verified.Contains(key)) return forward(x);
                var probe = new Probe(x.shape[0]);
                Tensor y;
                _probe = probe;
                try { y = forward(x); }
                finally { _probe = null; }
                var verdict = probe.Verdict(key, Tolerance(x.dtype));
                _verdicts.Add(verdict);
                if (verdict.Ok)
                {
                    _verified.Add(key);
                    return y;
                }
                y.Dispose();
                Fallback(verdict);
            }
        }
    }

    string Key(Tensor x) => string.Create(CultureInfo.InvariantCulture,
        $"{(Layout == ConvolutionLayout.ChannelsLast ? "channels-last" : "nchw")}, oneDNN {(LibTorchContext.MkldnnEnabled == false ? "off" : "on")}, " +
        $"{x.dtype}, batch {x.shape[0]}, {x.shape[2]}x{x.shape[3]}, {get_num_threads()} threads");

    void Fallback(Verdict failed)
    {
        string what = $"self-check: {failed.WorstConvolution} in [{failed.Configuration}] differs from float64 by {failed.WorstError:P1}";
        if (_layoutMatters && Layout == ConvolutionLayout.ChannelsLast)
        {
            Layout = ConvolutionLayout.Nchw;
            Reason = what;
            _apply(Layout);
            Log($"peft: {what}; switching this model to NCHW layout and recomputing");
            return;
        }
        if (LibTorchContext.MkldnnEnabled != false && LibTorchContext.SetMkldnn(false))
        {
            Reason = what;
            Log($"peft: {what}; turning oneDNN off for this process (slower) and recomputing");
            return;
        }
        throw new InvalidOperationException(
            $"peft: {what}, and no other convolution path is left to try. This machine's libtorch computes wrong convolutions; " +
            $"please report it with the output of 'peft info'.");
    }

    /// <summary>Every convolution of a checked tower goes through here: computed, and compared while a check is running.</summary>
    internal static Tensor Conv2d(Tensor x, Tensor weight, Tensor? bias, long stride, long padding)
    {
        var y = nn.functional.conv2d(x, weight, bias, strides: [stride, stride], padding: [padding, padding]);
        if (FaultForTest is { } fault && fault.Layout == (x.is_contiguous() ? ConvolutionLayout.Nchw : ConvolutionLayout.ChannelsLast))
            y = fault.Corrupt(y);
        _probe?.Compare(x, weight, bias, stride, padding, y);
        return y;
    }

    /// <summary>Collects the errors of one checked forward, one comparison per distinct convolution.</summary>
    sealed class Probe(long batch)
    {
        readonly HashSet<string> _seen = [];
        readonly long[] _rows = new[] { 0L, batch / 2, batch - 1 }.Distinct().ToArray();
        double _worst;
        string _worstName = "no convolution";

        public void Compare(Tensor x, Tensor weight, Tensor? bias, long stride, long padding, Tensor y)
        {
            string name = string.Create(CultureInfo.InvariantCulture,
                $"{weight.shape[2]}x{weight.shape[3]} convolution {weight.shape[1]}->{weight.shape[0]} at {x.shape[2]}x{x.shape[3]} stride {stride}");
            if (!_seen.Add(name)) return;
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var rows = tensor(_rows);
            var reference = nn.functional.conv2d(x.index_select(0, rows).to(ScalarType.Float64).contiguous(), weight.to(ScalarType.Float64).contiguous(),
                bias?.to(ScalarType.Float64), strides: [stride, stride], padding: [padding, padding]);
            var got = y.index_select(0, rows).to(ScalarType.Float64);
            double norm = reference.norm().item<double>();
            double error = got.sub(reference).norm().item<double>() / Math.Max(norm, 1e-30);
            if (double.IsNaN(error)) error = double.PositiveInfinity;
            if (error > _worst || _worstName == "no convolution") (_worst, _worstName) = (error, name);
        }

        public Verdict Verdict(string configuration, double tolerance) =>
            new(configuration, _worst, _worstName, _seen.Count, _worst <= tolerance);
    }
}
