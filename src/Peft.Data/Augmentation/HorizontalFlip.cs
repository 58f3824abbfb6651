using Peft.Imaging;

namespace Peft.Data.Augmentation;

/// <summary>
/// torchvision's <c>RandomHorizontalFlip(p)</c>: flips when a uniform draw in [0, 1) is below p
/// (<c>torch.rand(1) &lt; p</c>), one draw per image whether or not it flips.
/// </summary>
public static class HorizontalFlip
{
    /// <summary>Draws once from <paramref name="random"/> and returns whether to flip.</summary>
    public static bool Decide(double probability, IViewRandom random)
    {
        ArgumentNullException.ThrowIfNull(random);
        return random.NextUniform(0.0, 1.0) < probability;
    }

    /// <summary>PIL's <c>transpose(FLIP_LEFT_RIGHT)</c>, into a new image.</summary>
    public static RgbImage Apply(RgbImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        int w = image.Width;
        var output = new RgbImage(w, image.Height);
        var src = image.Pixels;
        var dst = output.Pixels;
        for (int y = 0; y < image.Height; y++)
        {
            int row = y * w * 3;
            for (int x = 0; x < w; x++)
            {
                int s = row + x * 3, d = row + (w - 1 - x) * 3;
                dst[d] = src[s];
                dst[d + 1] = src[s + 1];
                dst[d + 2] = src[s + 2];
            }
        }
        return output;
    }
}
