using System.Text.Json;
using Peft.Imaging;
using Peft.Tests.Augmentation;
using Xunit.Abstractions;

namespace Peft.Tests.Imaging;

/// <summary>CMYK JPEGs (written by make_augment_fixtures.py with PIL 9.4) against PIL's <c>convert("RGB")</c>.</summary>
public class CmykJpegTests(ITestOutputHelper output)
{
    public static TheoryData<string> Files => new() { "cmyk_adobe.jpg", "cmyk_no_adobe.jpg" };

    static JsonElement Entry(string file) =>
        AugmentFixtures.Section("cmyk").EnumerateArray().Single(e => e.GetProperty("file").GetString() == file);

    [Theory]
    [MemberData(nameof(Files))]
    public void DecodesToPilsRgbBytesAndCmykMode(string file)
    {
        var entry = Entry(file);
        var image = ImageDecoder.Decode(AugmentFixtures.PathOf(file));

        Assert.Equal("CMYK", entry.GetProperty("pil_mode").GetString());
        Assert.Equal(PilImageMode.CMYK, image.Mode);
        Assert.Equal((entry.GetProperty("width").GetInt32(), entry.GetProperty("height").GetInt32()), (image.Width, image.Height));
        Assert.Equal(entry.GetProperty("decoded_sha256").GetString(), ImageFixtures.Sha256(image.Rgb.Pixels));
    }

    [Fact]
    public void ClipCropOfCmykIsPilsCropOfTheRgbAndCloseToPilsCmykResize()
    {
        var entry = Entry("cmyk_adobe.jpg");
        var crop = new ClipPreprocessor(224).PrepareRgb(ImageDecoder.Decode(AugmentFixtures.PathOf("cmyk_adobe.jpg")));

        // Exact for what the decoder can know: PIL's CLIP crop computed on convert("RGB").
        Assert.Equal(entry.GetProperty("rgb_first_clip224_crop_sha256").GetString(), ImageFixtures.Sha256(crop.Pixels));

        // openai/CLIP resizes the CMYK samples before converting; the decoder has only RGB. Measured on this
        // fixture (Python, PIL 9.4): max |difference| 2, mean 0.296 per channel value, 29% of values differ.
        var pil = ImageDecoder.Decode(AugmentFixtures.PathOf(entry.GetProperty("clip224_crop_png").GetString()!)).Rgb;
        Assert.Equal(entry.GetProperty("clip224_crop_sha256").GetString(), ImageFixtures.Sha256(pil.Pixels));
        int max = 0;
        long sum = 0;
        for (int i = 0; i < pil.Pixels.Length; i++)
        {
            int d = Math.Abs(pil.Pixels[i] - crop.Pixels[i]);
            max = Math.Max(max, d);
            sum += d;
        }
        double mean = (double)sum / pil.Pixels.Length;
        output.WriteLine($"CLIP 224 crop of a CMYK JPEG vs PIL: max |diff| {max}, mean {mean:F4}");
        Assert.InRange(max, 1, MeasuredMax);
        Assert.InRange(mean, 0, MeasuredMean);
    }

    const int MeasuredMax = 2;
    const double MeasuredMean = 0.30;

    [Fact]
    public void ThreeComponentJpegsAreStillRgb()
    {
        Assert.Equal(PilImageMode.RGB, ImageDecoder.Decode(ImageFixtures.PathOf("photo_chelsea.jpg")).Mode);
        Assert.Equal(PilImageMode.RGB, ImageDecoder.Decode(ImageFixtures.PathOf("photo_astronaut_progressive.jpg")).Mode);
        Assert.Equal(PilImageMode.L, ImageDecoder.Decode(ImageFixtures.PathOf("photo_camera_gray.jpg")).Mode);
    }
}
