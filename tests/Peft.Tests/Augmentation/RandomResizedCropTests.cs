using System.Text.Json;
using Peft.Imaging;
using Peft.Data.Augmentation;
using Peft.Tests.Imaging;

namespace Peft.Tests.Augmentation;

/// <summary>
/// RandomResizedCrop and the flip against torchvision 0.14 + PIL 9.4, replaying the random numbers torch drew
/// (recorded by make_augment_fixtures.py) so the geometry and the pixels can be compared exactly.
/// </summary>
public class RandomResizedCropTests
{
    public static TheoryData<int> GetParamsCases => AugmentFixtures.Indices("get_params");
    public static TheoryData<int> PipelineCases => AugmentFixtures.Indices("pipeline");

    static readonly Dictionary<string, DecodedImage> Images = new();

    static DecodedImage Load(string file)
    {
        lock (Images)
        {
            if (!Images.TryGetValue(file, out var image))
                Images[file] = image = ImageDecoder.Decode(ImageFixtures.PathOf(file));
            return image;
        }
    }

    static CropBox Box(JsonElement record)
    {
        var b = record.GetProperty("box");
        return new CropBox(b.GetProperty("top").GetInt32(), b.GetProperty("left").GetInt32(),
            b.GetProperty("height").GetInt32(), b.GetProperty("width").GetInt32());
    }

    static (double, double) Pair(JsonElement record, string name)
    {
        var a = record.GetProperty(name);
        return (a[0].GetDouble(), a[1].GetDouble());
    }

    [Theory]
    [MemberData(nameof(GetParamsCases))]
    public void GetParamsGivesTorchvisionsBoxForTheSameDraws(int index)
    {
        var record = AugmentFixtures.Section("get_params")[index];
        var image = Load(record.GetProperty("file").GetString()!);
        var (scaleMin, scaleMax) = Pair(record, "scale");
        var (ratioMin, ratioMax) = Pair(record, "ratio");
        var random = new ReplayRandom(record.GetProperty("draws"));

        var box = RandomResizedCrop.GetParams(image.Width, image.Height, scaleMin, scaleMax, ratioMin, ratioMax, random);

        Assert.Equal(Box(record), box);
        Assert.True(random.Exhausted, "fewer draws than torchvision made");
    }

    [Theory]
    [MemberData(nameof(PipelineCases))]
    public void ViewIsTorchvisionsBytesAndTensor(int index)
    {
        var record = AugmentFixtures.Section("pipeline")[index];
        var image = Load(record.GetProperty("file").GetString()!);
        var (scaleMin, scaleMax) = Pair(record, "scale");
        var (ratioMin, ratioMax) = Pair(record, "ratio");
        int size = record.GetProperty("size").GetInt32();
        var spec = new AugmentationSpec(size, scaleMin, scaleMax, ratioMin, ratioMax);
        var random = new ReplayRandom(record.GetProperty("draws"));

        var view = TrainingViewSampler.Sample(spec, image, random);

        Assert.True(random.Exhausted, "fewer draws than torchvision made");
        Assert.Equal(record.GetProperty("view_sha256").GetString(), ImageFixtures.Sha256(view.Pixels));
        var tensor = new float[3 * size * size];
        new ClipPreprocessor(size).Normalize(view, tensor);
        Assert.Equal(record.GetProperty("tensor_sha256").GetString(), ImageFixtures.Sha256(tensor));
    }

    [Theory]
    [MemberData(nameof(PipelineCases))]
    public void ResizedCropAndFlipEachMatchPil(int index)
    {
        var record = AugmentFixtures.Section("pipeline")[index];
        var image = Load(record.GetProperty("file").GetString()!);
        int size = record.GetProperty("size").GetInt32();

        var cropped = RandomResizedCrop.Apply(image.Rgb, Box(record), size, size, ResampleFilter.Bicubic);

        Assert.Equal(record.GetProperty("resized_crop_sha256").GetString(), ImageFixtures.Sha256(cropped.Pixels));
        Assert.Equal(record.GetProperty("resized_crop_hflip_sha256").GetString(), ImageFixtures.Sha256(HorizontalFlip.Apply(cropped).Pixels));
    }

    [Fact]
    public void FixturesCoverBothFlipOutcomesAndEveryFallbackBranch()
    {
        // Guards the fixture set itself: each branch above must actually be exercised.
        var pipeline = AugmentFixtures.Section("pipeline").EnumerateArray().ToArray();
        Assert.Contains(pipeline, r => r.GetProperty("flipped").GetBoolean());
        Assert.Contains(pipeline, r => !r.GetProperty("flipped").GetBoolean());
        var configs = AugmentFixtures.Section("get_params").EnumerateArray()
            .Select(r => r.GetProperty("config").GetString()).ToHashSet();
        Assert.Superset(new HashSet<string?> { "fallback_whole", "fallback_tall", "fallback_wide", "mixed" }, configs);
    }

    [Fact]
    public void FallbackBoxesAreCentredAndClampedToTheRatioRange()
    {
        var never = new ConstantRandom(uniform: 0.999, integer: 0);
        // Scale above 1 can never fit: 300x200 (ratio 1.5) is outside (0.75, 1.333) -> h = 200, w = round(200 * 4/3) = 267.
        Assert.Equal(new CropBox(0, 16, 200, 267), RandomResizedCrop.GetParams(300, 200, 2, 3, 0.75, 4.0 / 3.0, never));
        // 200x300 (ratio 0.667) -> w = 200, h = round(200 / 0.75) = 267, top = (300 - 267) // 2 = 16.
        Assert.Equal(new CropBox(16, 0, 267, 200), RandomResizedCrop.GetParams(200, 300, 2, 3, 0.75, 4.0 / 3.0, never));
        // Inside the range: the whole image.
        Assert.Equal(new CropBox(0, 0, 250, 300), RandomResizedCrop.GetParams(300, 250, 2, 3, 0.75, 4.0 / 3.0, never));
    }

    [Fact]
    public void CropOutsideTheImageIsRejected()
    {
        var image = new RgbImage(10, 8);
        Assert.Throws<ArgumentOutOfRangeException>(() => RandomResizedCrop.Crop(image, new CropBox(0, 5, 8, 6)));
        Assert.Throws<ArgumentOutOfRangeException>(() => RandomResizedCrop.Crop(image, new CropBox(-1, 0, 4, 4)));
    }

    [Fact]
    public void FlipMirrorsColumnsAndKeepsPixelsWhole()
    {
        var image = new RgbImage(3, 2, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18]);
        var flipped = HorizontalFlip.Apply(image);
        Assert.Equal(new byte[] { 7, 8, 9, 4, 5, 6, 1, 2, 3, 16, 17, 18, 13, 14, 15, 10, 11, 12 }, flipped.Pixels);
        Assert.Equal(image.Pixels, HorizontalFlip.Apply(flipped).Pixels);
    }

    sealed class ConstantRandom(double uniform, int integer) : IViewRandom
    {
        public double NextUniform(double low, double high) => low + (high - low) * uniform;
        public int NextInteger(int low, int highExclusive) => Math.Min(low + integer, highExclusive - 1);
    }
}
