using Peft.Imaging;

namespace Peft.Tests.Imaging;

/// <summary>
/// Resize alone, on PIL's own decoded pixels (the stored .pil-rgb.png for a JPEG, else the lossless input),
/// against the SHA-256 of <c>Image.resize</c> in Pillow 9.4: every case must be byte-identical.
/// </summary>
public class PilResamplerTests
{
    public static TheoryData<string> Inputs => ImageFixtures.Files("photo", "synthetic");

    [Theory]
    [MemberData(nameof(Inputs))]
    public void ResizeIsByteIdenticalToPillow(string file)
    {
        var entry = ImageFixtures.Entry(file);
        var rgb = ImageFixtures.PilRgb(entry);
        if (rgb is null)
        {
            // Lossy input without stored PIL pixels: covered only if our decode equals PIL's (checked elsewhere).
            Assert.True(ImageFixtures.IsLossy(file), $"{file} should have reference pixels");
            rgb = ImageDecoder.Decode(ImageFixtures.PathOf(file)).Rgb;
            Assert.Equal(entry.GetProperty("decoded_sha256").GetString(), ImageFixtures.Sha256(rgb.Pixels));
        }

        int checkedCases = 0;
        foreach (var c in entry.GetProperty("resize").EnumerateObject())
        {
            var filter = c.Name.Split('_')[0] switch
            {
                "bicubic" => ResampleFilter.Bicubic,
                "bilinear" => ResampleFilter.Bilinear,
                "nearest" => ResampleFilter.Nearest,
                var other => throw new InvalidDataException($"unknown filter {other} in manifest"),
            };
            int w = c.Value.GetProperty("width").GetInt32(), h = c.Value.GetProperty("height").GetInt32();
            var resized = PilResampler.Resize(rgb, w, h, filter);
            Assert.True(c.Value.GetProperty("sha256").GetString() == ImageFixtures.Sha256(resized.Pixels),
                $"{file}: {c.Name} ({rgb.Width}x{rgb.Height} -> {w}x{h}) differs from Pillow");
            checkedCases++;
        }
        Assert.Equal(6, checkedCases);
    }

    [Fact]
    public void BicubicKernelMatchesKeysCubicWithAMinusHalf()
    {
        Assert.Equal(1.0, ResampleKernel.Evaluate(ResampleFilter.Bicubic, 0));
        Assert.Equal(0.0, ResampleKernel.Evaluate(ResampleFilter.Bicubic, 1));
        Assert.Equal(0.0, ResampleKernel.Evaluate(ResampleFilter.Bicubic, 2));
        Assert.Equal(0.5625, ResampleKernel.Evaluate(ResampleFilter.Bicubic, 0.5), 12);   // (1.5*0.5-2.5)*0.25+1
        Assert.Equal(-0.0625, ResampleKernel.Evaluate(ResampleFilter.Bicubic, 1.5), 12);  // ((1.5-5)*1.5+8)*1.5-4 = 0.125, * -0.5
    }

    [Fact]
    public void DownscalingWidensTheKernelAndWeightsSumToOne()
    {
        var k = ResampleKernel.Create(1000, 0, 1000, 100, ResampleFilter.Bicubic);
        Assert.Equal(2 * 20 + 1, k.Size); // support 2 * scale 10, both sides, plus one
        for (int i = 0; i < 100; i++)
        {
            double sum = 0;
            long fixedSum = 0;
            for (int j = 0; j < k.Count[i]; j++)
            {
                sum += k.Weights[i * k.Size + j];
                fixedSum += k.FixedWeights[i * k.Size + j];
            }
            Assert.Equal(1.0, sum, 12);
            Assert.InRange(fixedSum, (1 << 22) - k.Count[i], (1 << 22) + k.Count[i]);
        }
    }

    [Fact]
    public void SameSizeIsACopy()
    {
        var image = new RgbImage(3, 2, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18]);
        var resized = PilResampler.Resize(image, 3, 2);
        Assert.Equal(image.Pixels, resized.Pixels);
        Assert.NotSame(image.Pixels, resized.Pixels);
    }

    [Fact]
    public void ConstantImageStaysConstantAfterBicubicOvershootClipping()
    {
        var pixels = Enumerable.Repeat((byte)255, 37 * 23 * 3).ToArray();
        var resized = PilResampler.Resize(new RgbImage(37, 23, pixels), 224, 139);
        Assert.All(resized.Pixels, b => Assert.Equal(255, b));
    }

    [Fact]
    public void ResizeIsSafeAcrossThreads()
    {
        var rgb = ImageDecoder.Decode(ImageFixtures.PathOf("photo_chelsea.png")).Rgb;
        var expected = ImageFixtures.Sha256(PilResampler.Resize(rgb, 258, 224).Pixels);
        var hashes = new string[32];
        Parallel.For(0, hashes.Length, i => hashes[i] = ImageFixtures.Sha256(PilResampler.Resize(rgb, 258, 224).Pixels));
        Assert.All(hashes, h => Assert.Equal(expected, h));
    }
}
