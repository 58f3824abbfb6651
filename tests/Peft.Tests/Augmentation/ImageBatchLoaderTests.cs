using Peft.Imaging;
using Peft.Data.Images;
using Peft.Tests.Imaging;

namespace Peft.Tests.Augmentation;

public class ImageBatchLoaderTests
{
    static readonly string Missing = Path.Combine(ImageFixtures.Directory, "no_such_image.jpg");

    static readonly string[] Paths =
    [
        ImageFixtures.PathOf("gray.png"),
        ImageFixtures.PathOf("truncated.jpg"),
        ImageFixtures.PathOf("tiny_10x7.png"),
        Missing,
        ImageFixtures.PathOf("not_an_image.jpg"),
        ImageFixtures.PathOf("palette.png"),
    ];

    [Fact]
    public void DefaultFailsNamingTheFirstUnreadableFileInInputOrder()
    {
        for (int attempt = 0; attempt < 3; attempt++) // the same file whatever the thread timing
        {
            var e = Assert.Throws<ImageDecodeException>(() => ImageBatchLoader.Load(Paths, maxDegreeOfParallelism: 4));
            Assert.Equal(ImageFixtures.PathOf("truncated.jpg"), e.ImageName);
            Assert.Contains(ImageFixtures.PathOf("truncated.jpg"), e.Message);
        }
    }

    [Fact]
    public void SkipUnreadableListsEveryBadFileWithItsReason()
    {
        var batch = ImageBatchLoader.Load(Paths, DecodePolicy.SkipUnreadable);

        Assert.Equal([0, 2, 5], batch.SourceIndices);
        Assert.Equal(ImageDecoder.Decode(Paths[0]).Rgb.Pixels, batch.Images[0].Rgb.Pixels);
        Assert.Equal(ImageDecoder.Decode(Paths[5]).Rgb.Pixels, batch.Images[2].Rgb.Pixels);
        Assert.Equal(Paths[2], batch.Images[1].Name);

        Assert.Equal([1, 3, 4], batch.Skipped.Select(s => s.Index));
        Assert.Equal([Paths[1], Paths[3], Paths[4]], batch.Skipped.Select(s => s.Path));
        Assert.Contains("truncated", batch.Skipped[0].Reason);
        Assert.Contains("not found", batch.Skipped[1].Reason);
        Assert.Contains("not a recognised image format", batch.Skipped[2].Reason);
        Assert.Equal($"{Paths[3]}: file not found", batch.Skipped[1].ToString());
    }

    [Fact]
    public void CleanInputSkipsNothing()
    {
        var paths = new[] { ImageFixtures.PathOf("gray.png"), ImageFixtures.PathOf("rgba.png") };
        foreach (var policy in new[] { DecodePolicy.Fail, DecodePolicy.SkipUnreadable })
        {
            var batch = ImageBatchLoader.Load(paths, policy);
            Assert.Equal(2, batch.Images.Count);
            Assert.Empty(batch.Skipped);
            Assert.Equal(PilImageMode.RGBA, batch.Images[1].Mode);
        }
    }
}
