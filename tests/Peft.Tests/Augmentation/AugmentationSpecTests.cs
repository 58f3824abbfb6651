using Peft.Imaging;
using Peft.Data.Augmentation;

namespace Peft.Tests.Augmentation;

public class AugmentationSpecTests
{
    [Fact]
    public void KeyIsStableAndExact()
    {
        Assert.Equal("rrc(224,s=0.08-1,r=0.75-1.3333333333333333,bicubic)+hflip(0.5)", AugmentationSpec.Dassl().Key);
        Assert.Equal("rrc(336,s=0.5-1,r=0.75-1.3333333333333333,bicubic)+hflip(0.5)", AugmentationSpec.TipAdapter(336).Key);
        Assert.Equal("rrc(96,s=0.2-0.9,r=0.5-2,bilinear)+hflip(0)",
            new AugmentationSpec(96, 0.2, 0.9, 0.5, 2, 0, ResampleFilter.Bilinear).Key);
        // Hash of the UTF-8 key: fixed for a given key.
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
            System.Text.Encoding.UTF8.GetBytes(AugmentationSpec.Dassl().Key))), AugmentationSpec.Dassl().KeyHash);
    }

    [Fact]
    public void KeyDoesNotDependOnTheCulture()
    {
        var saved = System.Globalization.CultureInfo.CurrentCulture;
        try
        {
            System.Globalization.CultureInfo.CurrentCulture = new System.Globalization.CultureInfo("de-DE");
            Assert.Equal("rrc(224,s=0.08-1,r=0.75-1.3333333333333333,bicubic)+hflip(0.5)", AugmentationSpec.Dassl().Key);
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = saved;
        }
    }

    [Fact]
    public void KeysDifferExactlyWhenSpecsDiffer()
    {
        var a = AugmentationSpec.Dassl();
        Assert.Equal(a, new AugmentationSpec(224));
        Assert.Equal(a.Key, new AugmentationSpec(224).Key);
        var others = new[]
        {
            new AugmentationSpec(225), new AugmentationSpec(224, scaleMin: 0.0800001), new AugmentationSpec(224, ratioMax: 1.3333),
            new AugmentationSpec(224, flipProbability: 0), new AugmentationSpec(224, interpolation: ResampleFilter.Bilinear),
            AugmentationSpec.TipAdapter(),
        };
        foreach (var o in others)
        {
            Assert.NotEqual(a, o);
            Assert.NotEqual(a.Key, o.Key);
            Assert.NotEqual(a.KeyHash, o.KeyHash);
        }
    }

    [Fact]
    public void InvalidRangesAreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new AugmentationSpec(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AugmentationSpec(224, scaleMin: 0.9, scaleMax: 0.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AugmentationSpec(224, scaleMin: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AugmentationSpec(224, ratioMin: 2, ratioMax: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AugmentationSpec(224, flipProbability: 1.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AugmentationSpec(224, flipProbability: double.NaN));
    }
}
