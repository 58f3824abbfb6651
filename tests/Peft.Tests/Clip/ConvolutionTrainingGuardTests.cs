using Peft.Clip.Model;
using Peft.Clip.Native;
using Peft.Pretraining;
using TorchSharp;
using static TorchSharp.torch;

namespace Peft.Tests.Clip;

/// <summary>
/// Issue 11: on a 2-core AMD EPYC VM that reports no cache sizes, libtorch 2.10's oneDNN NCHW convolution backward
/// gave wrong gradients (159% off with 1 thread, NaN on alternate calls with 2) and pretraining a ResNet CLIP diverged
/// to NaN. Training goes through <see cref="ConvolutionTrainingGuard"/>, which checks the gradients against float64.
/// </summary>
public sealed class ConvolutionTrainingGuardTests : IDisposable
{
    readonly List<string> _log = [];
    readonly Action<string> _previousLog = ConvolutionCheck.Log;

    public ConvolutionTrainingGuardTests() => ConvolutionCheck.Log = _log.Add;

    public void Dispose()
    {
        ConvolutionTrainingGuard.GradientFaultForTest = null;
        Environment.SetEnvironmentVariable(CpuCacheInfo.SimulateVariable, null);
        ConvolutionCheck.Log = _previousLog;
        LibTorchContext.SetMkldnn(true);
    }

    static ClipModel Tiny(string vision)
    {
        var config = ClipPretrainer.ConfigOf(new TinyClipSize
        {
            Vision = vision, ImageSize = 32, PatchSize = 8, VisionWidth = vision == "vit" ? 64 : 8, VisionLayers = 1,
            TextWidth = 64, TextLayers = 1, ContextLength = 16, EmbedDim = 32,
        });
        var model = new ClipModel(config);
        using var g = new Generator(7);
        ClipPretrainer.Initialise(model, g, 0.07);
        // CLIP's initialisation zeroes each bottleneck's last BatchNorm; nonzero gains send gradients through every block.
        using (no_grad())
            foreach (var (name, p) in model.named_parameters())
                if (name.EndsWith("bn3.weight", StringComparison.Ordinal)) p.fill_(0.5);
        return model.SetTrainable(true);
    }

    static nn.Module<Tensor, Tensor> Visual(ClipModel model) =>
        (nn.Module<Tensor, Tensor>)model.named_children().Single(c => c.name == "visual").module;

    /// <summary>Worst relative error of the image tower's parameter gradients against a float64 copy, over three steps.</summary>
    static (double Error, string Where) WorstGradientError(ClipModel model, string vision, Tensor x)
    {
        using var copy = Tiny(vision);
        copy.load_state_dict(model.state_dict());
        copy.to(ScalarType.Float64);
        var (a, b) = (Visual(model), Visual(copy));
        using var upstream = randn([x.shape[0], 32], generator: new Generator(11));
        double worst = 0;
        string where = "";
        for (int step = 0; step < 3; step++)
        {
            using var scope = NewDisposeScope();
            (a.forward(x) * upstream).sum().backward();
            (b.forward(x.to(ScalarType.Float64)) * upstream.to(ScalarType.Float64)).sum().backward();
            var expected = b.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!);
            double floor = 1e-3 * expected.Values.Max(e => e.norm().item<double>());
            foreach (var (name, p) in a.named_parameters())
            {
                double error = p.grad!.to(ScalarType.Float64).sub(expected[name]).norm().item<double>() / Math.Max(expected[name].norm().item<double>(), floor);
                if (double.IsNaN(error)) error = double.PositiveInfinity;
                if (error > worst) (worst, where) = (error, name);
                p.grad!.zero_();
                expected[name].zero_();
            }
        }
        return (worst, where);
    }

    [Theory]
    [InlineData("resnet", 1)]
    [InlineData("resnet", 2)]
    [InlineData("vit", 2)]
    public void Under_the_guard_training_gradients_match_float64(string vision, int threads)
    {
        int previous = get_num_threads();
        set_num_threads(threads);
        try
        {
            using var model = Tiny(vision);
            using var x = randn([50, 3, 32, 32], generator: new Generator(3));
            using (var guard = model.GuardImageTraining(x))
            {
                Assert.True(guard.Verdicts[^1].Ok, guard.Verdicts[^1].ToString());
                var (error, where) = WorstGradientError(model, vision, x);
                Assert.True(error < 1e-3, $"gradient of {where} is {error:E2} off float64 ({guard.Verdicts[^1].Configuration})");
            }
            Assert.True(LibTorchContext.MkldnnEnabled != false, "oneDNN is restored when the training ends");
        }
        finally { set_num_threads(previous); }
    }

    [Fact]
    public void A_wrong_gradient_path_turns_oneDNN_off_says_so_and_is_restored_after_training()
    {
        using var model = Tiny("resnet");
        using var x = randn([16, 3, 32, 32], generator: new Generator(3));
        ConvolutionTrainingGuard.GradientFaultForTest = g => LibTorchContext.MkldnnEnabled == false ? g : g * 1.05;
        using (var guard = model.GuardImageTraining(x, offOnCpusWithoutCaches: false))
        {
            Assert.Equal(2, guard.Verdicts.Count);
            Assert.False(guard.Verdicts[0].Ok);
            Assert.True(guard.Verdicts[0].WorstError >= 0.04, $"{guard.Verdicts[0]}"); // 5%, or more where oneDNN is wrong itself
            Assert.Contains("oneDNN on", guard.Verdicts[0].Configuration);
            Assert.True(guard.Verdicts[1].Ok);
            Assert.Contains("oneDNN off", guard.Verdicts[1].Configuration);
            Assert.False(LibTorchContext.MkldnnEnabled);
            Assert.Contains(_log, m => m.Contains("training self-check") && m.Contains("training with oneDNN off"));
            Assert.StartsWith("training self-check", guard.OneDnnOffReason);
        }
        Assert.True(LibTorchContext.MkldnnEnabled);
    }

    [Fact]
    public void Training_is_refused_when_no_path_gives_right_gradients_and_oneDNN_is_restored()
    {
        using var model = Tiny("resnet");
        using var x = randn([16, 3, 32, 32], generator: new Generator(3));
        ConvolutionTrainingGuard.GradientFaultForTest = g => g * 1.05;
        var e = Assert.Throws<InvalidOperationException>(() => model.GuardImageTraining(x, offOnCpusWithoutCaches: false));
        Assert.Contains("no other convolution path is left", e.Message);
        Assert.Contains("differs from float64 by 5", e.Message);
        Assert.True(LibTorchContext.MkldnnEnabled);
    }

    [Fact]
    public void On_a_CPU_without_cache_sizes_training_starts_with_oneDNN_off()
    {
        Environment.SetEnvironmentVariable(CpuCacheInfo.SimulateVariable, "1");
        using var model = Tiny("resnet");
        using var x = randn([16, 3, 32, 32], generator: new Generator(3));
        using (var guard = model.GuardImageTraining(x))
        {
            Assert.Equal("CPU reports no cache sizes", guard.OneDnnOffReason);
            Assert.Single(guard.Verdicts);
            Assert.Contains("oneDNN off", guard.Verdicts[0].Configuration);
            Assert.False(LibTorchContext.MkldnnEnabled);
            Assert.Contains(_log, m => m.Contains("training runs the convolutions with oneDNN off"));
        }
        Assert.True(LibTorchContext.MkldnnEnabled);
    }

    [Fact]
    public void Pretraining_stops_with_a_clear_error_when_the_loss_is_not_finite()
    {
        using var model = Tiny("vit");
        var recipe = new PretrainRecipe
        {
            Seed = 1, Threads = 1, BatchSize = 8, Epochs = 1,
            Model = new TinyClipSize { Vision = "vit", ImageSize = 32, PatchSize = 8, VisionWidth = 64, VisionLayers = 1, TextWidth = 64, TextLayers = 1, ContextLength = 16, EmbedDim = 32 },
            Optimizer = new PretrainOptimizer { Lr = 1e-3, WarmupSteps = 1 },
            Data = new PretrainDataExpectation { ImageSize = 32, MinImages = 16 },
        };
        using var g = new Generator(1);
        using var images = randn([16, 3, 32, 32], generator: g);
        images.narrow(0, 8, 8).fill_(double.NaN); // a corrupt half: the first batch (checked by the guard) is fine
        using var tokens = randint(1, 100, [16, 16], generator: g);
        var e = Assert.Throws<InvalidOperationException>(() => new ClipPretrainer(recipe).Train(model, images, tokens, g));
        Assert.Contains("the loss became NaN at epoch 1, step", e.Message);
        Assert.Contains("no checkpoint is written", e.Message);
    }
}
