using Peft.Imaging;
using Peft.Clip.Loading;
using Peft.Clip.Model;
using Peft.Clip.Text;
using Peft.Data.Synthetic;
using Peft.Pretraining;
using static TorchSharp.torch;
using Peft.Tensors;

namespace Peft.Tests.Pretraining;

/// <summary>A tiny synthetic world (300 captioned 32 px images, 2 test images per class) shared by the pretraining tests.</summary>
public sealed class TinySynthFixture : IDisposable
{
    public string Dir { get; } = Directory.CreateTempSubdirectory("peft-pretrain-").FullName;

    public TinySynthFixture() => SyntheticWorld.Generate(Dir, new SyntheticWorldOptions
    {
        Seed = 3, ImageSize = 32, PretrainCount = 300, TrainPerClass = 1, ValPerClass = 1, TestPerClass = 2,
    });

    public void Dispose() => Directory.Delete(Dir, recursive: true);
}

public sealed class PretrainTests(TinySynthFixture world) : IClassFixture<TinySynthFixture>
{
    static PretrainRecipe Tiny(int epochs = 2, string dtype = "float32", string vision = "vit") => new()
    {
        Seed = 7, Threads = 1, BatchSize = 50, Epochs = epochs, CheckpointDtype = dtype,
        Model = new TinyClipSize
        {
            Vision = vision, ImageSize = 32, PatchSize = 8, VisionWidth = vision == "vit" ? 64 : 8, VisionLayers = 1, TextWidth = 64, TextLayers = 1,
            ContextLength = 24, EmbedDim = 32,
        },
        Optimizer = new PretrainOptimizer { Lr = 3e-3, WarmupSteps = 2, WeightDecay = 0.1 },
        Data = new PretrainDataExpectation { ImageSize = 32, MinImages = 300 },
    };

    (Tensor images, Tensor tokens) Data(PretrainRecipe r)
    {
        var items = ClipPretrainer.ReadCaptions(world.Dir);
        var images = new ClipPreprocessor(r.Model.ImageSize).PreprocessBatch(items.Select(i => i.ImagePath).ToList(), 1);
        var tokens = ClipTokenizer.Default.TokenizeToTensor(items.Select(i => i.Caption).ToList(), r.Model.ContextLength, truncate: true);
        return (images, tokens);
    }

    [Theory]
    [InlineData("vit")]
    [InlineData("resnet")] // BatchNorm in train mode while training, folded into the convolutions once frozen
    public void Loss_decreases_and_the_checkpoint_loads_with_the_same_features(string vision)
    {
        var r = Tiny(epochs: 4, vision: vision);
        var (images, tokens) = Data(r);
        using var _i = images;
        using var _t = tokens;
        using var g = new Generator((ulong)r.Seed);
        using var model = new ClipModel(ClipPretrainer.ConfigOf(r.Model));
        ClipPretrainer.Initialise(model, g, r.TemperatureInit);
        model.SetTrainable(true);
        Assert.True(model.IsTrainable);
        var epochs = new ClipPretrainer(r).Train(model, images, tokens, g);
        Assert.Equal(4, epochs.Count);
        Assert.True(epochs[^1].MeanLoss < epochs[0].MeanLoss - 0.05, $"loss {epochs[0].MeanLoss} → {epochs[^1].MeanLoss}");
        Assert.All(epochs, e => Assert.True(double.IsFinite(e.MeanLoss)));
        model.SetTrainable(false);
        Assert.False(model.IsTrainable);

        var path = Path.Combine(world.Dir, "loss-test.safetensors");
        ClipPretrainer.Save(model, path, r, 300, epochs);
        using var loaded = ClipLoader.Load(path);
        Assert.Equal(24, loaded.Model.ContextLength);
        Assert.Equal(32, loaded.Model.ImageResolution);
        using var x = images.narrow(0, 0, 8);
        using var t = tokens.narrow(0, 0, 8);
        using var a = model.EncodeImage(x);
        using var b = loaded.Model.EncodeImage(x);
        Assert.True(a.eq(b).all().item<bool>(), "image features of the reloaded fp32 checkpoint differ");
        using var ta = model.EncodeText(t);
        using var tb = loaded.Model.EncodeText(t);
        Assert.True(ta.eq(tb).all().item<bool>(), "text features of the reloaded fp32 checkpoint differ");
        // The training path gives the frozen path's numbers (ForwardText cuts the padding after the last EOT).
        using (no_grad())
        {
            using var ft = model.ForwardText(t);
            Assert.True(ft.allclose(ta, rtol: 1e-5, atol: 1e-6));
        }
    }

    [Fact]
    public void Run_is_deterministic_writes_a_loadable_fp16_checkpoint_and_reports_zero_shot()
    {
        var r = Tiny(epochs: 1, dtype: "float16");
        var p1 = Path.Combine(world.Dir, "run1.safetensors");
        var p2 = Path.Combine(world.Dir, "run2.safetensors");
        var first = new ClipPretrainer(r).Run(world.Dir, p1);
        var second = new ClipPretrainer(r).Run(world.Dir, p2);
        Assert.Equal(File.ReadAllBytes(p1), File.ReadAllBytes(p2));
        Assert.Equal(first.Epochs[0].MeanLoss, second.Epochs[0].MeanLoss);
        Assert.Equal(["synth_shapes", "synth_fine", "synth_shift"], first.ZeroShot.Select(z => z.Task));
        Assert.All(first.ZeroShot, z => Assert.InRange(z.Accuracy, 0, 1));
        Assert.Equal(20, first.ZeroShot[0].Images);

        using var loaded = ClipLoader.Load(p1);
        Assert.Equal(ScalarType.Float32, loaded.Model.ComputeType);
        var header = SafeTensorsFile.ReadHeader(p1);
        Assert.All(header.entries, e => Assert.Equal(ScalarType.Float16, e.DType));
        Assert.Contains("peft.pretrain.recipe", header.metadata.Keys);
        Assert.Equal(7, PretrainRecipe.Parse(header.metadata["peft.pretrain.recipe"]).Seed);

        // A different seed gives a different model.
        var p3 = Path.Combine(world.Dir, "run3.safetensors");
        new ClipPretrainer(r with { Seed = 8 }).Run(world.Dir, p3);
        Assert.NotEqual(File.ReadAllBytes(p1), File.ReadAllBytes(p3));
    }

    [Fact]
    public void Data_that_does_not_match_the_recipe_is_reported_by_key()
    {
        var e = Assert.Throws<PretrainRecipeException>(() => new ClipPretrainer(Tiny() with { Data = new PretrainDataExpectation { ImageSize = 64 } }).Run(world.Dir, null));
        Assert.Equal("data.image_size", e.Key);
        e = Assert.Throws<PretrainRecipeException>(() => new ClipPretrainer(Tiny() with { Data = new PretrainDataExpectation { ImageSize = 32, MinImages = 301 } }).Run(world.Dir, null));
        Assert.Equal("data.min_images", e.Key);
    }
}

public sealed class PretrainRecipeTests
{
    [Fact]
    public void The_default_recipe_file_parses()
    {
        var dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "Peft.Framework.sln"))) dir = Path.GetDirectoryName(dir);
        Assert.NotNull(dir);
        var r = PretrainRecipe.Load(Path.Combine(dir!, "experiments", "pretrain-tiny.json"));
        Assert.Equal(64, r.Model.ImageSize);
        Assert.Equal(64, r.Data.ImageSize);
        Assert.Equal("float16", r.CheckpointDtype);
        Assert.Equal(r, PretrainRecipe.Parse(r.ToJson()) with { Data = r.Data });
    }

    [Fact]
    public void The_shipped_tiny_clip_was_made_by_the_recipe_file_and_fits_the_size_limit()
    {
        var dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "Peft.Framework.sln"))) dir = Path.GetDirectoryName(dir);
        var model = Path.Combine(dir!, "data", "models", "tiny-clip.safetensors");
        Assert.InRange(new FileInfo(model).Length, 1, 25_000_000);
        var shipped = PretrainRecipe.Parse(SafeTensorsFile.ReadHeader(model).metadata["peft.pretrain.recipe"], model);
        var file = PretrainRecipe.Load(Path.Combine(dir!, "experiments", "pretrain-tiny.json"));
        Assert.Equal((file with { Description = "" }).ToJson(), (shipped with { Description = "" }).ToJson());
        using var clip = ClipLoader.Load(model);
        Assert.False(clip.Model.Config.IsVisionTransformer);
    }

    [Theory]
    [InlineData("""{"optimizer": {"lr": -1}}""", "optimizer.lr")]
    [InlineData("""{"optimizer": {"lr": "fast"}}""", "optimizer.lr")]
    [InlineData("""{"model": {"vision_width": 100}}""", "model.vision_width")]
    [InlineData("""{"model": {"patch_size": 7}}""", "model.patch_size")]
    [InlineData("""{"model": {"widht": 128}}""", "model.widht")]
    [InlineData("""{"batch_size": 1}""", "batch_size")]
    [InlineData("""{"epochs": 1.5}""", "epochs")]
    [InlineData("""{"checkpoint_dtype": "int8"}""", "checkpoint_dtype")]
    [InlineData("""{"temperature_init": 0}""", "temperature_init")]
    [InlineData("""{"data": {"eval_tasks": [1]}}""", "data.eval_tasks")]
    [InlineData("""{"data": 3}""", "data")]
    [InlineData("""{"sed": 1}""", "sed")]
    [InlineData("""{"model": {"vision": "swin"}}""", "model.vision")]
    [InlineData("""{"model": {"vision": "resnet", "image_size": 48}, "data": {"image_size": 48}}""", "model.image_size")]
    [InlineData("""{"model": {"vision": "resnet", "vision_width": 15}}""", "model.vision_width")]
    [InlineData("""{"data": {"shape_caption_fraction": 1.5}}""", "data.shape_caption_fraction")]
    public void Validation_errors_name_the_key(string json, string key)
    {
        var e = Assert.Throws<PretrainRecipeException>(() => PretrainRecipe.Parse(json, "test.json"));
        Assert.Equal(key, e.Key);
        Assert.Contains($"'{key}'", e.Message);
        Assert.StartsWith("test.json", e.Message);
    }

    [Fact]
    public void Warmup_then_cosine()
    {
        var t = new ClipPretrainer(new PretrainRecipe { Optimizer = new PretrainOptimizer { Lr = 1e-3, WarmupSteps = 10, MinLr = 1e-5 } });
        Assert.Equal(1e-4, t.LearningRate(0, 110), 12);
        Assert.Equal(1e-3, t.LearningRate(9, 110), 12);
        Assert.Equal(1e-3, t.LearningRate(10, 110), 12);
        Assert.Equal((1e-3 + 1e-5) / 2, t.LearningRate(60, 110), 12);
        Assert.Equal(1e-5, t.LearningRate(110, 110), 12);
    }

    [Fact]
    public void A_new_model_stays_frozen()
    {
        var r = new PretrainRecipe { Model = new TinyClipSize { ImageSize = 16, PatchSize = 8, VisionWidth = 64, VisionLayers = 1, TextWidth = 64, TextLayers = 1, ContextLength = 16, EmbedDim = 16 } };
        using var model = new ClipModel(ClipPretrainer.ConfigOf(r.Model));
        Assert.False(model.IsTrainable);
        Assert.False(model.training);
        model.SetTrainable(true);
        Assert.True(model.training);
        using var f = model.EncodeImage(zeros(1, 3, 16, 16));
        Assert.False(f.requires_grad);
        using var h = model.ForwardImage(zeros(1, 3, 16, 16));
        Assert.True(h.requires_grad);
    }
}
