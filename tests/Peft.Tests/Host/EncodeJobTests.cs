using Peft.Imaging;
using Peft.Clip.Loading;
using Peft.Clip.Text;
using Peft.Host.FeatureExtraction;
using Peft.Tests.Imaging;
using static TorchSharp.torch;
using Peft.Tensors;

namespace Peft.Tests.Host;

public sealed class EncodeJobTests() : TempDirectory("peft-encode-")
{
    /// <summary>An images folder with a subfolder, names chosen so ordinal order differs from naive order.</summary>
    string ImagesFolder()
    {
        var root = Directory.CreateDirectory(Temp("images")).FullName;
        Directory.CreateDirectory(Path.Combine(root, "b"));
        File.Copy(ImageFixtures.PathOf("photo_chelsea.jpg"), Path.Combine(root, "b", "cat.jpg"));
        File.Copy(ImageFixtures.PathOf("palette.png"), Path.Combine(root, "a.png"));
        File.Copy(ImageFixtures.PathOf("photo_coffee.jpg"), Path.Combine(root, "B.jpg"));
        File.Copy(ImageFixtures.PathOf("lossy.webp"), Path.Combine(root, "b", "z.webp"));
        File.WriteAllText(Path.Combine(root, "notes.txt"), "not an image; skipped by extension");
        return root;
    }

    [Fact]
    public void WritesFeaturesInOrdinalPathOrderAndOneRowPerTextLine()
    {
        using var scope = NewDisposeScope();
        var model = RandomClip.Save(Temp("model.safetensors"), RandomClip.SmallViT, seed: 1);
        var images = ImagesFolder();
        string[] lines = ["a photo of a cat.", "", "a cup of coffee", "ÉLAN & co.", "a photo of a cat."];
        File.WriteAllLines(Temp("texts.txt"), lines);
        var progress = new List<(string, int, int)>();

        var result = new EncodeJob(new EncodeOptions
        {
            ModelPath = model, ImagesDir = images, TextsFile = Temp("texts.txt"), OutPath = Temp("out.safetensors"), BatchSize = 3,
        }) { Progress = (s, d, t) => progress.Add((s, d, t)) }.Run();

        Assert.Equal((4, 5, 32), (result.Images, result.Texts, result.EmbedDim));
        using var output = SafeTensorsFile.Read(Temp("out.safetensors"));
        var header = SafeTensorsFile.ReadHeader(Temp("out.safetensors"));
        Assert.Equal("[\"B.jpg\",\"a.png\",\"b/cat.jpg\",\"b/z.webp\"]", header.metadata["image_paths"]);
        Assert.Equal(ScalarType.Float32, output["image_features"].dtype);

        // The same features computed directly, image by image and text by text.
        using var loaded = ClipLoader.Load(model);
        var pre = new ClipPreprocessor(32);
        string[] order = ["B.jpg", "a.png", "b/cat.jpg", "b/z.webp"];
        for (int i = 0; i < order.Length; i++)
        {
            var one = loaded.Model.EncodeImage(pre.Preprocess(Path.Combine(images, order[i])).unsqueeze(0));
            Assert.True(one[0].allclose(output["image_features"][i], 1e-5, 1e-6), order[i]);
        }
        var direct = loaded.Model.EncodeText(ClipTokenizer.Default.TokenizeToTensor(lines));
        Assert.True(direct.allclose(output["text_features"], 1e-5, 1e-6));
        Assert.True(output["text_features"][0].allclose(output["text_features"][4], 0, 0)); // same text, same row
        Assert.Contains(("images", 4, 4), progress);
        Assert.Contains(("texts", 5, 5), progress);
    }

    [Fact]
    public void AnImageThatDoesNotDecodeIsNamedAndNothingIsWritten()
    {
        var model = RandomClip.Save(Temp("model.safetensors"), RandomClip.SmallViT, seed: 2);
        var images = ImagesFolder();
        File.Copy(ImageFixtures.PathOf("truncated.jpg"), Path.Combine(images, "b", "broken.jpg"));
        var e = Assert.Throws<ImageDecodeException>(() => new EncodeJob(new EncodeOptions
        {
            ModelPath = model, ImagesDir = images, OutPath = Temp("out.safetensors"), BatchSize = 2,
        }).Run());
        Assert.Contains("broken.jpg", e.Message);
        Assert.False(File.Exists(Temp("out.safetensors")));
        Assert.Empty(Directory.GetFiles(Dir, "*.tmp"));
    }

    [Fact]
    public void OverlongTextNamesTheLineUnlessTruncated()
    {
        var model = RandomClip.Save(Temp("model.safetensors"), RandomClip.SmallViT, seed: 3);
        File.WriteAllLines(Temp("texts.txt"), ["short", string.Join(" ", Enumerable.Repeat("word", 100))]);
        var options = new EncodeOptions { ModelPath = model, TextsFile = Temp("texts.txt"), OutPath = Temp("t.safetensors") };
        var e = Assert.Throws<ArgumentException>(() => new EncodeJob(options).Run());
        Assert.Contains("line 2", e.Message);
        Assert.False(File.Exists(Temp("t.safetensors")));

        var result = new EncodeJob(options with { TruncateTexts = true }).Run();
        Assert.Equal(2, result.Texts);
        Assert.Equal(0, result.Images);
    }

    [Fact]
    public void BadArgumentsAreReportedBeforeTheModelLoads()
    {
        var missingModel = Temp("no-model.pt");
        Assert.Contains("--images", Assert.Throws<DirectoryNotFoundException>(() => new EncodeJob(new EncodeOptions
            { ModelPath = missingModel, ImagesDir = Temp("none"), OutPath = Temp("o") }).Run()).Message);
        Assert.Contains("nothing to encode", Assert.Throws<ArgumentException>(() => new EncodeJob(new EncodeOptions
            { ModelPath = missingModel, OutPath = Temp("o") }).Run()).Message);
        Assert.Contains("--batch-size", Assert.Throws<ArgumentException>(() => new EncodeJob(new EncodeOptions
            { ModelPath = missingModel, TextsFile = Temp("x"), OutPath = Temp("o"), BatchSize = 0 }).Run()).Message);
    }

    [Fact]
    public void TokensOutsideTheVocabularyAreRejectedClearly()
    {
        using var loaded = ClipLoader.Load(Clip.FixturePaths.Clip("vit_state_dict.pt")); // vocabulary of 1000
        var e = Assert.Throws<ArgumentException>(() => loaded.Model.EncodeText(ClipTokenizer.Default.TokenizeToTensor(["a cat"])));
        Assert.Contains("outside the model's vocabulary of 1000", e.Message);
    }
}
