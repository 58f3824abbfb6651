using Peft.Imaging;

namespace Peft.Data.Augmentation;

/// <summary>
/// torchvision 0.14's <c>RandomResizedCrop</c> on a PIL image: the box of <c>get_params</c>, then
/// <c>F.resized_crop</c>, which is <c>img.crop(box)</c> followed by <c>img.resize(size, filter)</c> (so pixels
/// outside the box never enter the resampling, unlike PIL's <c>resize(box=...)</c>). The geometry is
/// torchvision's exactly, given the same random numbers; the numbers come from an <see cref="IViewRandom"/>.
/// </summary>
public static class RandomResizedCrop
{
    const int Attempts = 10;

    /// <summary>
    /// <c>RandomResizedCrop.get_params</c>. Up to ten attempts: area fraction uniform in [scaleMin, scaleMax),
    /// log aspect ratio uniform between the float32 logs of the ratio bounds, aspect = float32 exp of it,
    /// w = round(sqrt(area * aspect)), h = round(sqrt(area / aspect)) (round half to even); the first box with
    /// 0 &lt; w ≤ W and 0 &lt; h ≤ H is placed with top = randint(0, H - h + 1), left = randint(0, W - w + 1).
    /// If all ten fail: the whole image, or the centred largest box of the nearest allowed ratio.
    /// A box always lies inside the image.
    /// </summary>
    public static CropBox GetParams(int width, int height, double scaleMin, double scaleMax,
        double ratioMin, double ratioMax, IViewRandom random)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentNullException.ThrowIfNull(random);
        double area = (double)width * height;
        // torch.log(torch.tensor(ratio)) is float32; its values widen to double when passed to uniform_.
        double logMin = MathF.Log((float)ratioMin), logMax = MathF.Log((float)ratioMax);
        for (int attempt = 0; attempt < Attempts; attempt++)
        {
            double targetArea = area * random.NextUniform(scaleMin, scaleMax);
            // torch.exp on the float32 draw, then .item() to double.
            double aspect = MathF.Exp((float)random.NextUniform(logMin, logMax));
            int w = RoundHalfEven(Math.Sqrt(targetArea * aspect));
            int h = RoundHalfEven(Math.Sqrt(targetArea / aspect));
            if (w > 0 && w <= width && h > 0 && h <= height)
            {
                int top = random.NextInteger(0, height - h + 1);
                int left = random.NextInteger(0, width - w + 1);
                return new CropBox(top, left, h, w);
            }
        }
        return CentralFallback(width, height, ratioMin, ratioMax);
    }

    /// <summary>torchvision's fallback: clamp the image's aspect ratio into [min(ratio), max(ratio)], centre the box.</summary>
    static CropBox CentralFallback(int width, int height, double ratioMin, double ratioMax)
    {
        double inRatio = (double)width / height;
        double lo = Math.Min(ratioMin, ratioMax), hi = Math.Max(ratioMin, ratioMax);
        int w, h;
        if (inRatio < lo)
        {
            w = width;
            h = RoundHalfEven(w / lo);
        }
        else if (inRatio > hi)
        {
            h = height;
            w = RoundHalfEven(h * hi);
        }
        else
        {
            w = width;
            h = height;
        }
        // Python's floor division; both operands are non-negative here.
        return new CropBox((height - h) / 2, (width - w) / 2, h, w);
    }

    /// <summary>
    /// <c>F.resized_crop(img, top, left, h, w, [outHeight, outWidth], filter)</c> on an RGB image: the crop, then
    /// Pillow's resize (returns the crop unchanged when it already has the output size).
    /// </summary>
    public static RgbImage Apply(RgbImage image, CropBox box, int outWidth, int outHeight, ResampleFilter filter)
    {
        ArgumentNullException.ThrowIfNull(image);
        var cropped = Crop(image, box);
        return cropped.Width == outWidth && cropped.Height == outHeight
            ? cropped
            : PilResampler.Resize(cropped, outWidth, outHeight, filter);
    }

    /// <summary><c>img.crop((left, top, left + w, top + h))</c> for a box inside the image.</summary>
    public static RgbImage Crop(RgbImage image, CropBox box)
    {
        ArgumentNullException.ThrowIfNull(image);
        // get_params never leaves the image; PIL would zero-fill outside it, which nothing here needs.
        if (box.Width <= 0 || box.Height <= 0 || box.Left < 0 || box.Top < 0
            || box.Left + box.Width > image.Width || box.Top + box.Height > image.Height)
            throw new ArgumentOutOfRangeException(nameof(box), $"Crop {box} is not inside the {image.Width}x{image.Height} image.");
        var output = new RgbImage(box.Width, box.Height);
        int rowBytes = box.Width * 3;
        for (int y = 0; y < box.Height; y++)
            Buffer.BlockCopy(image.Pixels, ((box.Top + y) * image.Width + box.Left) * 3, output.Pixels, y * rowBytes, rowBytes);
        return output;
    }

    /// <summary>Python 3's <c>int(round(x))</c>.</summary>
    static int RoundHalfEven(double x) => (int)Math.Round(x, MidpointRounding.ToEven);
}
