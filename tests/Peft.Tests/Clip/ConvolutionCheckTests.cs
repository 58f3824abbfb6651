using Peft.Clip.Loading;
using Peft.Clip.Model;
using Peft.Clip.Native;
using Peft.Data.Synthetic;
using Peft.Tests.Cli;
using TorchSharp;
using static TorchSharp.torch;
using Peft.Tensors;

namespace Peft.Tests.Clip;

/// <summary>
/// Issue 11: oneDNN 3.7's channels-last 1x1 kernel dies (SIGFPE) or computes wrong values on CPUs that report no cache
/// sizes (AMD EPYC VMs). The ResNet tower starts in NCHW there and checks every new configuration against float64.
/// </summary>
public sealed class ConvolutionCheckTests() : TempDirectory("peft-convcheck-"), IDisposable
{
    void IDisposable.Dispose()
    {
        ConvolutionCheck.FaultForTest = null;
        LibTorchContext.SetMkldnn(true);
        Dispose();
    }

    /// <summary>openai/CLIP's RN50 shape: CLIP(1024, 224, (3,4,6,3), 64, None, 77, 49408, 512, 8, 12).</summary>
    static readonly ClipConfig Rn50 = new()
    {
        EmbedDim = 1024, ImageResolution = 224, VisionLayers = [3, 4, 6, 3], VisionWidth = 64,
        ContextLength = 77, VocabSize = 49408, TextWidth = 512, TextLayers = 12,
    };

    /// <summary>A small ResNet whose layer4 1x1 convolutions have 128 input channels at 2x2 (what went wrong on the EPYC VM).</summary>
    static readonly ClipConfig SmallResNet = new()
    {
        EmbedDim = 64, ImageResolution = 64, VisionLayers = [1, 1, 1, 1], VisionWidth = 32,
        ContextLength = 16, VocabSize = 100, TextWidth = 32, TextLayers = 1,
    };

    /// <summary>Random weights with BatchNorm statistics away from 0/1, as the RN50 had.</summary>
    static ClipModel RandomModel(ClipConfig config, long seed)
    {
        var model = new ClipModel(config);
        var g = new Generator((ulong)seed);
        using (no_grad())
            foreach (var (name, t) in model.state_dict())
            {
                if (name.EndsWith("running_var", StringComparison.Ordinal)) t.copy_(rand(t.shape, generator: g) + 0.5);
                else if (name.EndsWith("running_mean", StringComparison.Ordinal)) t.copy_(randn(t.shape, generator: g) * 0.1);
                else if (t.is_floating_point() && t.dim() == 4) t.copy_(randn(t.shape, generator: g) * Math.Sqrt(2.0 / (t.shape[1] * t.shape[2] * t.shape[3])));
            }
        model.eval();
        return model;
    }

    [Fact]
    public void A_wrong_channels_last_kernel_is_caught_and_the_tower_switches_to_nchw()
    {
        using var model = RandomModel(SmallResNet, 1);
        var check = model.ImageConvolutions;
        using var x = randn([4, 3, 64, 64], generator: new Generator(2));
        SwitchTo(model, ConvolutionLayout.Nchw);
        using var expected = model.EncodeImage(x); // itself checked against float64, convolution by convolution
        Assert.True(check.Verdicts[^1].Ok);
        SwitchTo(model, ConvolutionLayout.ChannelsLast);

        // What the EPYC VM's brgconv_1x1 did: a few percent off, nothing else visible.
        ConvolutionCheck.FaultForTest = (ConvolutionLayout.ChannelsLast, y => y * 1.05);
        var messages = new List<string>();
        var log = ConvolutionCheck.Log;
        ConvolutionCheck.Log = messages.Add;
        // On a CPU without cache sizes the real channels-last kernel dies (SIGFPE) with more than one thread; one is safe.
        int threads = get_num_threads();
        if (!CpuCacheInfo.Current.Reported) set_num_threads(1);
        try
        {
            using var features = model.EncodeImage(x);
            Assert.Equal(ConvolutionLayout.Nchw, check.Layout);
            var verdicts = check.Verdicts;
            // The channels-last check failed; NCHW in this configuration is verified — by a new check, or by the one
            // above when the thread count is the same (a CPU that reports its caches keeps its threads).
            var failed = verdicts.Last(v => v.Configuration.StartsWith("channels-last", StringComparison.Ordinal));
            Assert.False(failed.Ok);
            Assert.True(failed.WorstError > 0.04, $"error {failed.WorstError}"); // the fault (or this CPU's own kernel)
            var nchw = verdicts.Last(v => v.Configuration.StartsWith("nchw", StringComparison.Ordinal));
            Assert.True(nchw.Ok);
            Assert.EndsWith($"{get_num_threads()} threads", nchw.Configuration);
            Assert.Single(messages, m => m.Contains("switching this model to NCHW") && m.Contains("differs from float64 by"));
            Assert.True(RelativeError(features, expected) < 1e-5, $"features after the switch differ from the checked NCHW ones by {RelativeError(features, expected):E2}");
        }
        finally
        {
            ConvolutionCheck.Log = log;
            set_num_threads(threads);
        }
    }

    [Fact]
    public void When_no_path_is_correct_encoding_fails_with_a_message_instead_of_returning_wrong_features()
    {
        using var model = RandomModel(SmallResNet, 3);
        var log = ConvolutionCheck.Log;
        ConvolutionCheck.Log = _ => { };
        try
        {
            // NCHW wrong, and still wrong with oneDNN off: nothing correct is left.
            SwitchTo(model, ConvolutionLayout.Nchw);
            ConvolutionCheck.FaultForTest = (ConvolutionLayout.Nchw, y => y * 1.05);
            using var x = randn([2, 3, 64, 64], generator: new Generator(4));
            var e = Assert.Throws<InvalidOperationException>(() => model.EncodeImage(x));
            Assert.Contains("no other convolution path is left", e.Message);
            Assert.Contains("differs from float64", e.Message);
        }
        finally
        {
            ConvolutionCheck.Log = log;
            LibTorchContext.SetMkldnn(true);
        }
        Assert.True(LibTorchContext.MkldnnEnabled);
    }

    [Fact]
    public void A_cpu_without_cache_sizes_starts_the_resnet_in_nchw_and_micro_batches()
    {
        var before = Environment.GetEnvironmentVariable(CpuCacheInfo.SimulateVariable);
        Environment.SetEnvironmentVariable(CpuCacheInfo.SimulateVariable, "1");
        try
        {
            Assert.False(CpuCacheInfo.Current.Reported);
            Assert.Contains("simulated", CpuCacheInfo.Current.ToString());
            using var model = RandomModel(SmallResNet, 5);
            Assert.Equal(ConvolutionLayout.Nchw, model.ImageConvolutions.Layout);
            Assert.Equal("CPU reports no cache sizes", model.ImageConvolutions.Reason);
            Assert.Equal(8, model.ImageConvolutions.MicroBatch);
            // Split batches give the same features as one image at a time.
            using var x = randn([11, 3, 64, 64], generator: new Generator(6));
            using var all = model.EncodeImage(x);
            using var last = model.EncodeImage(x.narrow(0, 10, 1));
            Assert.True(RelativeError(all.narrow(0, 10, 1), last) < 1e-5);
        }
        finally { Environment.SetEnvironmentVariable(CpuCacheInfo.SimulateVariable, before); }
    }

    /// <summary>
    /// The reproduction: a full-size RN50-shaped random model encoded by <c>peft encode</c> at batch sizes 1, 4
    /// and 32 with the default threads, fp32 and bf16, in a child process (a native fault shows as its exit code).
    /// </summary>
    [Fact]
    public void Peft_encode_runs_a_full_size_rn50_at_batch_1_4_and_32_with_default_threads()
    {
        var checkpoint = Temp("rn50.safetensors");
        using (var model = RandomModel(Rn50, 7))
            SafeTensorsFile.Write(checkpoint, model.state_dict().Select(kv => new KeyValuePair<string, Tensor>(kv.Key, kv.Value)).ToList());
        var images = Directory.CreateDirectory(Temp("images")).FullName;
        var rgb = new byte[224 * 224 * 3];
        for (int i = 0; i < 32; i++)
        {
            new Random(i).NextBytes(rgb);
            File.WriteAllBytes(Path.Combine(images, $"{i:D2}.png"), PngWriter.Encode(rgb, 224, 224));
        }
        var firstOf = new Dictionary<string, Tensor>();
        foreach (var (batch, dtype) in new[] { (1, "fp32"), (4, "fp32"), (32, "fp32"), (1, "bf16"), (32, "bf16") })
        {
            var output = Temp($"f{batch}{dtype}.safetensors");
            var (code, stdout, stderr) = PeftProcess.Run(TimeSpan.FromMinutes(10), "encode", "--model", checkpoint, "--images", images,
                "--out", output, "--batch-size", batch.ToString(), "--dtype", dtype);
            Assert.True(code == 0, $"batch {batch} {dtype}: exit {code}\n{stdout}\n{stderr}");
            Assert.DoesNotContain("NNPACK", stderr);
            using var file = SafeTensorsFile.Read(output);
            Assert.True(file.TryGet("image_features", out var features));
            Assert.Equal([32L, 1024L], features.shape);
            Assert.True(features.isfinite().all().item<bool>());
            // Each dtype against its own batch 1: a batch x thread split must not change the values (what went wrong on
            // the EPYC VM). bf16 against fp32 is only rounding, but 16 random bottlenecks amplify it (~12% here).
            if (!firstOf.TryGetValue(dtype, out var first)) firstOf[dtype] = features.clone();
            else
            {
                double error = RelativeError(features, first);
                Assert.True(error < (dtype == "fp32" ? 1e-5 : 2e-2), $"batch {batch} {dtype}: features differ from batch 1 {dtype} by {error:E2}");
            }
        }
        double cosine = nn.functional.cosine_similarity(firstOf["fp32"], firstOf["bf16"].to(ScalarType.Float32), 1).mean().item<float>();
        Assert.True(cosine > 0.95, $"bf16 against fp32: mean cosine {cosine}");
        foreach (var t in firstOf.Values) t.Dispose();
    }

    static void SwitchTo(ClipModel model, ConvolutionLayout layout) => model.ImageConvolutions.UseLayout(layout);

    static double RelativeError(Tensor a, Tensor b) => (a.to(ScalarType.Float64) - b.to(ScalarType.Float64)).norm().item<double>() / b.to(ScalarType.Float64).norm().item<double>();
}
