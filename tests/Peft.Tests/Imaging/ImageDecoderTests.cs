using Peft.Imaging;
using Xunit.Abstractions;

namespace Peft.Tests.Imaging;

public class ImageDecoderTests(ITestOutputHelper output)
{
    public static TheoryData<string> Lossless => ImageFixtures.Files(f => !ImageFixtures.IsLossy(f), "photo", "synthetic");
    public static TheoryData<string> Lossy => ImageFixtures.Files(ImageFixtures.IsLossy, "photo", "synthetic");
    public static TheoryData<string> Invalid => ImageFixtures.Files("invalid");

    [Theory]
    [MemberData(nameof(Lossless))]
    public void LosslessFilesDecodeToPilsBytesAndMode(string file)
    {
        var entry = ImageFixtures.Entry(file);
        var image = ImageDecoder.Decode(ImageFixtures.PathOf(file));

        Assert.Equal(entry.GetProperty("width").GetInt32(), image.Width);
        Assert.Equal(entry.GetProperty("height").GetInt32(), image.Height);
        Assert.Equal(ImageFixtures.ParseMode(entry.GetProperty("pil_mode").GetString()!), image.Mode);
        Assert.Equal(entry.GetProperty("decoded_sha256").GetString(), ImageFixtures.Sha256(image.Rgb.Pixels));
    }

    [Theory]
    [MemberData(nameof(Lossy))]
    public void LossyFilesDecodeToPilsBytesAndMode(string file)
    {
        var entry = ImageFixtures.Entry(file);
        var image = ImageDecoder.Decode(ImageFixtures.PathOf(file));

        Assert.Equal(entry.GetProperty("width").GetInt32(), image.Width);
        Assert.Equal(entry.GetProperty("height").GetInt32(), image.Height);
        Assert.Equal(ImageFixtures.ParseMode(entry.GetProperty("pil_mode").GetString()!), image.Mode);
        bool same = entry.GetProperty("decoded_sha256").GetString() == ImageFixtures.Sha256(image.Rgb.Pixels);
        output.WriteLine($"{file}: decoded bytes {(same ? "identical to PIL" : "DIFFER from PIL")}");
        Assert.True(same);
    }

    [Theory]
    [MemberData(nameof(Invalid))]
    public void FilesThatDoNotDecodeThrowNamingTheFile(string file)
    {
        var path = ImageFixtures.PathOf(file);
        var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(path));
        Assert.Contains(path, e.Message);
        output.WriteLine(e.Message);
    }

    [Fact]
    public void MissingFileThrowsNamingTheFile()
    {
        var path = Path.Combine(ImageFixtures.Directory, "no_such_image.png");
        var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("not found", e.Message);
    }

    [Fact]
    public void AlphaIsKeptSeparatelyAndNotComposited()
    {
        var image = ImageDecoder.Decode(ImageFixtures.PathOf("rgba.png"));
        Assert.Equal(PilImageMode.RGBA, image.Mode);
        Assert.NotNull(image.Alpha);
        // The first 20 columns are fully transparent but keep their colour (no premultiplication, no black).
        Assert.Equal(0, image.Alpha![0]);
        Assert.True(image.Rgb.Pixels.AsSpan(0, 60).ContainsAnyExcept((byte)0));
    }

    [Fact]
    public void ExifOrientationIsNotApplied()
    {
        var image = ImageDecoder.Decode(ImageFixtures.PathOf("exif_rotate90.jpg"));
        Assert.Equal((300, 200), (image.Width, image.Height)); // as stored; rotated would be 200 x 300
    }

    [Fact]
    public void StreamAndPathDecodeAlike()
    {
        var path = ImageFixtures.PathOf("palette_trns.png");
        using var stream = File.OpenRead(path);
        var fromStream = ImageDecoder.Decode(stream, "palette_trns.png");
        Assert.Equal(ImageDecoder.Decode(path).Rgb.Pixels, fromStream.Rgb.Pixels);
        Assert.Equal(PilImageMode.P, fromStream.Mode);
    }
}
