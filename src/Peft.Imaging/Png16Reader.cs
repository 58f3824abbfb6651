using System.Buffers.Binary;
using System.IO.Compression;

namespace Peft.Imaging;

/// <summary>
/// Reads the samples of 16-bit PNGs, which Skia 2.88 will not hand out at 16 bits (it only offers a lossy
/// half-float conversion). Handles all 16-bit colour types (gray, RGB, gray+alpha, RGBA), both interlace
/// methods and all five row filters. Returns samples as stored, big-endian decoded, interleaved.
/// </summary>
internal static class Png16Reader
{
    public static (int Width, int Height, int Channels, ushort[] Samples) Read(byte[] png, string name)
    {
        int pos = 8, width = 0, height = 0, channels = 0, interlace = 0;
        using var idat = new MemoryStream();
        while (pos + 8 <= png.Length)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(pos));
            var type = System.Text.Encoding.ASCII.GetString(png, pos + 4, 4);
            if (length < 0 || pos + 12 + (long)length > png.Length) throw new ImageDecodeException(name, "file is truncated");
            var body = png.AsSpan(pos + 8, length);
            if (type == "IHDR")
            {
                width = BinaryPrimitives.ReadInt32BigEndian(body);
                height = BinaryPrimitives.ReadInt32BigEndian(body[4..]);
                if (body[8] != 16) throw new ImageDecodeException(name, "expected a 16-bit PNG");
                channels = body[9] switch { 0 => 1, 2 => 3, 4 => 2, 6 => 4, _ => throw new ImageDecodeException(name, $"colour type {body[9]} cannot be 16-bit") };
                interlace = body[12];
            }
            else if (type == "IDAT") idat.Write(body);
            else if (type == "IEND") break;
            pos += 12 + length;
        }
        if (width <= 0 || height <= 0 || idat.Length == 0) throw new ImageDecodeException(name, "PNG has no image data");

        byte[] raw;
        try
        {
            idat.Position = 0;
            using var z = new ZLibStream(idat, CompressionMode.Decompress);
            using var inflated = new MemoryStream();
            z.CopyTo(inflated);
            raw = inflated.ToArray();
        }
        catch (InvalidDataException e)
        {
            throw new ImageDecodeException(name, "PNG image data is corrupt", e);
        }

        int bpp = channels * 2;
        var samples = new ushort[checked(width * height * channels)];
        int offset = 0;
        if (interlace == 0)
        {
            offset = Unfilter(raw, offset, width, height, bpp, name, (x, y, p) => Store(samples, raw, p, (y * width + x) * channels, channels));
        }
        else
        {
            // Adam7: seven sub-images, each with its own filtered rows.
            ReadOnlySpan<int> x0 = [0, 4, 0, 2, 0, 1, 0], y0 = [0, 0, 4, 0, 2, 0, 1], dx = [8, 8, 4, 4, 2, 2, 1], dy = [8, 8, 8, 4, 4, 2, 2];
            for (int pass = 0; pass < 7; pass++)
            {
                int px0 = x0[pass], py0 = y0[pass], pdx = dx[pass], pdy = dy[pass];
                int w = (width - px0 + pdx - 1) / pdx, h = (height - py0 + pdy - 1) / pdy;
                if (w <= 0 || h <= 0) continue;
                offset = Unfilter(raw, offset, w, h, bpp, name,
                    (x, y, p) => Store(samples, raw, p, ((py0 + y * pdy) * width + px0 + x * pdx) * channels, channels));
            }
        }
        return (width, height, channels, samples);
    }

    static void Store(ushort[] samples, byte[] raw, int p, int target, int channels)
    {
        for (int c = 0; c < channels; c++) samples[target + c] = BinaryPrimitives.ReadUInt16BigEndian(raw.AsSpan(p + 2 * c));
    }

    /// <summary>Reverses the row filters in place; calls <paramref name="pixel"/> with each pixel's offset in <paramref name="raw"/>.</summary>
    static int Unfilter(byte[] raw, int offset, int width, int height, int bpp, string name, Action<int, int, int> pixel)
    {
        int stride = width * bpp;
        if (offset + (long)(stride + 1) * height > raw.Length) throw new ImageDecodeException(name, "file is truncated");
        int previous = -1;
        for (int y = 0; y < height; y++)
        {
            int filter = raw[offset], row = offset + 1;
            for (int i = 0; i < stride; i++)
            {
                int a = i >= bpp ? raw[row + i - bpp] : 0;
                int b = previous >= 0 ? raw[previous + i] : 0;
                int c = i >= bpp && previous >= 0 ? raw[previous + i - bpp] : 0;
                int predictor = filter switch
                {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => (a + b) >> 1,
                    4 => Paeth(a, b, c),
                    _ => throw new ImageDecodeException(name, $"PNG row filter {filter} is invalid"),
                };
                raw[row + i] = (byte)(raw[row + i] + predictor);
            }
            for (int x = 0; x < width; x++) pixel(x, y, row + x * bpp);
            previous = row;
            offset = row + stride;
        }
        return offset;
    }

    static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
}
