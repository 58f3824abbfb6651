using System.Security.Cryptography;
using Peft.Clip.Loading;
using Peft.Models;
using Peft.Pretraining;
using Peft.Tests.Cli;
using Peft.Tensors;

namespace Peft.Tests.Pretraining;

/// <summary>The shipped tiny CLIP with a ViT image tower (data/models/tiny-clip-vit.safetensors) and its name "tiny-clip-vit".</summary>
public sealed class TinyClipVitTests() : TempDirectory("peft-tiny-vit-")
{
    static string Shipped => Path.Combine(PeftProcess.Repository, "data", "models", "tiny-clip-vit.safetensors");

    [Fact]
    public void The_name_resolves_to_the_bundled_copy_of_the_shipped_checkpoint()
    {
        var resolved = BundledModels.Resolve(BundledModels.TinyClipVit);
        Assert.Equal(Path.Combine(AppContext.BaseDirectory, "models", "tiny-clip-vit.safetensors"), resolved);
        Assert.Equal(SHA256.HashData(File.ReadAllBytes(Shipped)), SHA256.HashData(File.ReadAllBytes(resolved)));
        Assert.True(File.Exists(BundledModels.Resolve(BundledModels.TinyClip)));
        // Not a bundled name: left to the loader, which names it in its error.
        Assert.Equal("tiny-clip-vit.safetensors", BundledModels.Resolve("tiny-clip-vit.safetensors"));
    }

    [Fact]
    public void The_checkpoint_is_a_64px_vit_made_by_the_recipe_file_within_the_size_limit()
    {
        Assert.InRange(new FileInfo(Shipped).Length, 1, 25_000_000);
        using var loaded = ClipLoader.Load(Shipped);
        var config = loaded.Model.Config;
        Assert.True(config.IsVisionTransformer);
        Assert.Equal(64, config.ImageResolution);
        Assert.Equal(8, config.VisionPatchSize);
        Assert.Equal(new[] { 4 }, config.VisionLayers);
        Assert.Equal(128, config.VisionWidth);

        var shipped = PretrainRecipe.Parse(SafeTensorsFile.ReadHeader(Shipped).metadata["peft.pretrain.recipe"], Shipped);
        var file = PretrainRecipe.Load(Path.Combine(PeftProcess.Repository, "experiments", "pretrain-tiny-vit.json"));
        Assert.Equal((file with { Description = "" }).ToJson(), (shipped with { Description = "" }).ToJson());
        Assert.Equal("vit", shipped.Model.Vision);
    }

    [Fact]
    public void Encode_reads_the_bundled_vit_by_name()
    {
        File.WriteAllLines(Temp("texts.txt"), ["a photo of a red star.", "a photo of a blue moon."]);
        var output = Temp("features.safetensors");

        var (code, stdout, stderr) = PeftProcess.Run("encode", "--model", "tiny-clip-vit", "--texts", Temp("texts.txt"),
            "--out", output, "--threads", "1");

        Assert.True(code == 0, stderr);
        Assert.Contains("text_features [2, 128]", stdout);
        var model = SafeTensorsFile.ReadHeader(output).metadata["model"];
        Assert.Equal(Path.Combine(Path.GetDirectoryName(PeftProcess.Dll)!, "models", "tiny-clip-vit.safetensors"), model);
    }
}
