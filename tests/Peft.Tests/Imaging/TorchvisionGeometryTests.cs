using Peft.Imaging;

namespace Peft.Tests.Imaging;

public class TorchvisionGeometryTests
{
    [Theory]
    [InlineData(451, 300, 224, 336, 224)]   // int(224 * 451 / 300) = int(336.75): truncated, not rounded
    [InlineData(226, 151, 224, 335, 224)]
    [InlineData(151, 226, 224, 224, 335)]   // portrait
    [InlineData(512, 512, 224, 224, 224)]
    [InlineData(10, 7, 224, 320, 224)]      // upscaling
    [InlineData(1000, 110, 224, 2036, 224)] // int(2036.36...)
    [InlineData(640, 427, 336, 503, 336)]
    public void ResizeShortSideTruncatesTheLongSide(int w, int h, int size, int ew, int eh)
    {
        Assert.Equal((ew, eh), TorchvisionGeometry.ResizeShortSide(w, h, size));
    }

    [Theory]
    [InlineData(335, 56)] // (335 - 224) / 2 = 55.5 -> 56 (even)
    [InlineData(333, 54)] // 54.5 -> 54 (even), where rounding half up would give 55
    [InlineData(336, 56)]
    [InlineData(224, 0)]
    public void CenterCropRoundsHalfToEvenLikePython(int length, int expectedOffset)
    {
        Assert.Equal((expectedOffset, expectedOffset), TorchvisionGeometry.CenterCropOrigin(length, length, 224, 224));
    }

    public static TheoryData<string> Inputs => ImageFixtures.Files("photo", "synthetic");

    /// <summary>CenterCrop(224) alone on PIL's RGB: crops larger images and zero-pads the tiny ones, like torchvision.</summary>
    [Theory]
    [MemberData(nameof(Inputs))]
    public void CenterCropMatchesTorchvision(string file)
    {
        var entry = ImageFixtures.Entry(file);
        var rgb = ImageDecoder.Decode(ImageFixtures.PathOf(file)).Rgb; // decoding is exact (ImageDecoderTests)
        var crop = TorchvisionGeometry.CenterCrop(rgb, 224, 224);
        Assert.Equal(entry.GetProperty("center_crop224_sha256").GetString(), ImageFixtures.Sha256(crop.Pixels));
    }

    [Fact]
    public void PaddingPutsTheSmallerHalfOnTheLeftAndTop()
    {
        var image = new RgbImage(1, 1, [9, 9, 9]);
        var crop = TorchvisionGeometry.CenterCrop(image, 4, 3); // pad left 1, right 2, top 1, bottom 1
        int at = (1 * 4 + 1) * 3;
        Assert.Equal(9, crop.Pixels[at]);
        Assert.Equal(9 * 3, crop.Pixels.Sum(b => b));
    }
}
