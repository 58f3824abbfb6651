namespace Peft.Imaging;

/// <summary>
/// The size arithmetic of torchvision 0.14's <c>Resize(int)</c> and <c>CenterCrop</c> on PIL images,
/// including its truncation and Python's round-half-to-even.
/// </summary>
public static class TorchvisionGeometry
{
    /// <summary>
    /// <c>Resize(size)</c>: the short side becomes <paramref name="size"/>, the long side
    /// <c>int(size * long / short)</c> (true division, then truncation). Square images go to size x size.
    /// </summary>
    public static (int Width, int Height) ResizeShortSide(int width, int height, int size)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        bool portrait = width <= height;
        int shortSide = portrait ? width : height, longSide = portrait ? height : width;
        int newLong = (int)((double)((long)size * longSide) / shortSide);
        return portrait ? (size, newLong) : (newLong, size);
    }

    /// <summary>
    /// Top-left corner of <c>CenterCrop</c> on an image at least as large as the crop:
    /// <c>int(round((H - h) / 2.0))</c>, Python 3 rounding, so 55.5 gives 56 and 54.5 gives 54.
    /// </summary>
    public static (int Left, int Top) CenterCropOrigin(int width, int height, int cropWidth, int cropHeight)
    {
        int left = (int)Math.Round((width - cropWidth) / 2.0, MidpointRounding.ToEven);
        int top = (int)Math.Round((height - cropHeight) / 2.0, MidpointRounding.ToEven);
        return (left, top);
    }

    /// <summary>
    /// <c>CenterCrop((cropHeight, cropWidth))</c>. A side smaller than the crop is first padded with zeros
    /// (floor of half the shortfall on the left/top, the rest right/bottom), as torchvision does.
    /// </summary>
    public static RgbImage CenterCrop(RgbImage image, int cropWidth, int cropHeight)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cropWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cropHeight);
        int padLeft = cropWidth > image.Width ? (cropWidth - image.Width) / 2 : 0;
        int padTop = cropHeight > image.Height ? (cropHeight - image.Height) / 2 : 0;
        int paddedWidth = Math.Max(image.Width, cropWidth), paddedHeight = Math.Max(image.Height, cropHeight);
        var (left, top) = CenterCropOrigin(paddedWidth, paddedHeight, cropWidth, cropHeight);
        // Source pixel (x, y) of the crop is padded pixel (x + left, y + top) = image pixel (x + left - padLeft, ...).
        int dx = left - padLeft, dy = top - padTop;

        var output = new RgbImage(cropWidth, cropHeight);
        for (int y = 0; y < cropHeight; y++)
        {
            int sy = y + dy;
            if (sy < 0 || sy >= image.Height) continue;
            int x0 = Math.Max(0, -dx), x1 = Math.Min(cropWidth, image.Width - dx);
            if (x1 <= x0) continue;
            Buffer.BlockCopy(image.Pixels, (sy * image.Width + x0 + dx) * 3, output.Pixels, (y * cropWidth + x0) * 3, (x1 - x0) * 3);
        }
        return output;
    }
}
