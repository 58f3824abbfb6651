using System.Buffers.Binary;
using SkiaSharp;

namespace Peft.Imaging;

/// <summary>
/// Decodes JPEG, PNG, BMP, GIF (first frame) and WebP with Skia into what PIL 9.4's
/// <c>Image.open(p).convert("RGB")</c> gives. Choices that make the bytes agree with PIL:
/// pixels are requested unpremultiplied (PIL keeps stored colour under alpha; Skia would otherwise
/// premultiply), with no colour space (PIL ignores ICC profiles and gAMA), EXIF orientation is not applied
/// (CLIP never calls exif_transpose), 16-bit PNG samples are cut to their high byte (PIL's "RGB;16B" unpacking;
/// read by <see cref="Png16Reader"/> since Skia only offers them as half floats),
/// and 16-bit grayscale becomes mode I, which PIL converts to RGB by clipping at 255.
/// The PIL mode is read from the file header, because PIL's resize depends on it (see <see cref="PilImageMode"/>).
/// CMYK JPEGs: PIL 9.4 reads every four-component JPEG as Adobe-style inverted CMYK (with or without the APP14
/// marker) and converts with <c>R = K' - K'(255 - C')/255</c> (stored values, Pillow's rounded division); Skia
/// also assumes inverted CMYK and computes <c>round(C'K'/255)</c>, which is the same integer for all inputs
/// (no exact ties exist), so the RGB bytes agree (checked on PIL-written files with and without the marker).
/// Not checked against PIL: YCCK JPEGs (Adobe transform 2; both rely on libjpeg's conversion) and
/// 16-bit PNGs with alpha or Adam7 interlacing (handled, but no fixture). Thread-safe.
/// </summary>
public static class ImageDecoder
{
    /// <summary>
    /// Largest image decoded: PIL refuses more than 2 × <c>Image.MAX_IMAGE_PIXELS</c> (= 1024³ / 4 / 3) pixels as a
    /// decompression bomb (Pillow, src/PIL/Image.py, <c>_decompression_bomb_check</c>), so CLIP's own loader would too.
    /// </summary>
    public const long MaxPixels = 2L * (1024 * 1024 * 1024 / 4 / 3);

    /// <summary>Decodes a file. Throws <see cref="ImageDecodeException"/> naming the path if it is missing or does not decode.</summary>
    public static DecodedImage Decode(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ImageDecodeException(path, e is FileNotFoundException or DirectoryNotFoundException ? "file not found" : e.Message, e);
        }
        return Decode(bytes, path);
    }

    /// <summary>Decodes a whole stream; <paramref name="name"/> is used in error messages.</summary>
    public static DecodedImage Decode(Stream stream, string name)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return Decode(buffer.ToArray(), name);
    }

    /// <summary>Decodes an encoded image held in memory; <paramref name="name"/> is used in error messages.</summary>
    public static DecodedImage Decode(byte[] encoded, string name)
    {
        ArgumentNullException.ThrowIfNull(encoded);
        using var data = SKData.CreateCopy(encoded);
        using var codec = SKCodec.Create(data)
                          ?? throw new ImageDecodeException(name, "not a recognised image format (expected JPEG, PNG, BMP, GIF or WebP)");
        var info = codec.Info;
        if (info.Width <= 0 || info.Height <= 0) throw new ImageDecodeException(name, "image has no pixels");
        if ((long)info.Width * info.Height > MaxPixels)
            throw new ImageDecodeException(name,
                $"image is {info.Width}x{info.Height} = {(long)info.Width * info.Height:N0} pixels, more than the limit of {MaxPixels:N0} " +
                "(PIL's decompression-bomb limit); resize it");

        var (mode, sixteenBit) = SniffMode(encoded, codec.EncodedFormat, info, name);
        try
        {
            // Skia still validates the file (and gives the size) for 16-bit PNGs; their samples are read separately.
            return sixteenBit ? Decode16(encoded, mode, name) : Decode8(codec, info, mode, name);
        }
        catch (Exception e) when (e is OverflowException or OutOfMemoryException)
        {
            throw new ImageDecodeException(name, $"image of {info.Width}x{info.Height} pixels does not fit in memory ({e.Message})", e);
        }
    }

    static DecodedImage Decode8(SKCodec codec, SKImageInfo info, PilImageMode mode, string name)
    {
        int w = info.Width, h = info.Height, n = checked(w * h);
        var rgba = new byte[checked(n * 4)];
        GetPixels(codec, new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Unpremul), rgba, w * 4, name);

        var rgb = new byte[n * 3];
        byte[]? alpha = mode is PilImageMode.LA or PilImageMode.RGBA ? new byte[n] : null;
        SplitRgba(rgba, rgb, alpha, n);
        return new DecodedImage(name, mode, new RgbImage(w, h, rgb), alpha);
    }

    static DecodedImage Decode16(byte[] encoded, PilImageMode mode, string name)
    {
        var (w, h, channels, samples) = Png16Reader.Read(encoded, name);
        int n = w * h;
        var rgb = new byte[n * 3];
        if (mode == PilImageMode.I)
        {
            var values = new int[n];
            for (int i = 0; i < n; i++)
            {
                int v = samples[i * channels];
                values[i] = v;
                rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = (byte)Math.Min(v, 255);
            }
            return new DecodedImage(name, mode, new RgbImage(w, h, rgb), intensity: values);
        }

        // PIL unpacks 16-bit colour as "RGB;16B" etc.: the high byte of each sample, no rounding.
        bool gray = channels <= 2, hasAlpha = channels is 2 or 4;
        byte[]? alpha = hasAlpha ? new byte[n] : null;
        for (int i = 0; i < n; i++)
        {
            int p = i * channels;
            for (int c = 0; c < 3; c++) rgb[3 * i + c] = (byte)(samples[p + (gray ? 0 : c)] >> 8);
            if (alpha is not null) alpha[i] = (byte)(samples[p + channels - 1] >> 8);
        }
        return new DecodedImage(name, mode, new RgbImage(w, h, rgb), alpha);
    }

    static unsafe void SplitRgba(byte[] rgba, byte[] rgb, byte[]? alpha, int n)
    {
        fixed (byte* src = rgba, dst = rgb)
        {
            for (int i = 0; i < n; i++)
            {
                dst[3 * i] = src[4 * i];
                dst[3 * i + 1] = src[4 * i + 1];
                dst[3 * i + 2] = src[4 * i + 2];
            }
        }
        if (alpha is not null)
            for (int i = 0; i < n; i++) alpha[i] = rgba[4 * i + 3];
    }

    static unsafe void GetPixels(SKCodec codec, SKImageInfo dst, Span<byte> target, int rowBytes, string name)
    {
        SKCodecResult result;
        fixed (byte* p = target)
            result = codec.GetPixels(dst, (IntPtr)p, rowBytes, new SKCodecOptions(0));
        // IncompleteInput (truncated file) leaves rows unfilled; PIL raises "image file is truncated" there too.
        if (result != SKCodecResult.Success)
            throw new ImageDecodeException(name, result == SKCodecResult.IncompleteInput ? "file is truncated" : $"decoder reported {result}");
    }

    /// <summary>PIL's mode for the file, and whether the samples are 16-bit (PNG only).</summary>
    static (PilImageMode Mode, bool SixteenBit) SniffMode(byte[] b, SKEncodedImageFormat format, SKImageInfo info, string name)
    {
        bool skiaAlpha = info.AlphaType != SKAlphaType.Opaque;
        switch (format)
        {
            case SKEncodedImageFormat.Png:
                return PngMode(b, name);
            case SKEncodedImageFormat.Gif:
                return (PilImageMode.P, false); // PIL 9.4 opens the first GIF frame as "P"
            case SKEncodedImageFormat.Bmp:
                return (BmpMode(b), false);
            case SKEncodedImageFormat.Jpeg:
                // Skia reports CMYK as Bgra8888 like colour JPEGs; only the frame header tells them apart.
                if (JpegComponentCount(b) == 4) return (PilImageMode.CMYK, false);
                return (info.ColorType == SKColorType.Gray8 ? PilImageMode.L : PilImageMode.RGB, false);
            case SKEncodedImageFormat.Webp:
                return (skiaAlpha ? PilImageMode.RGBA : PilImageMode.RGB, false);
            default:
                // ICO, WBMP, ...: decoded, but not checked against PIL.
                return (info.ColorType == SKColorType.Gray8 ? PilImageMode.L : skiaAlpha ? PilImageMode.RGBA : PilImageMode.RGB, false);
        }
    }

    static (PilImageMode, bool) PngMode(byte[] b, string name)
    {
        // Signature (8) + IHDR length (4) + "IHDR" (4) + width (4) + height (4) + bit depth + colour type.
        if (b.Length < 26) throw new ImageDecodeException(name, "PNG header is truncated");
        int depth = b[24], colourType = b[25];
        bool sixteen = depth == 16;
        return colourType switch
        {
            0 when sixteen => (PilImageMode.I, true),
            0 when depth == 1 => (PilImageMode.Bilevel, false),
            0 => (PilImageMode.L, false),
            2 => (PilImageMode.RGB, sixteen),
            3 => (PilImageMode.P, false),
            4 => (PilImageMode.LA, sixteen),
            6 => (PilImageMode.RGBA, sixteen),
            _ => throw new ImageDecodeException(name, $"PNG colour type {colourType} is invalid"),
        };
    }

    /// <summary>
    /// The component count in the first SOF frame header, or 0 if none is found before the scan data.
    /// Walks the marker segments from SOI: each is FF, a marker byte, then a big-endian length that includes itself.
    /// </summary>
    static int JpegComponentCount(byte[] b)
    {
        int p = 2;
        while (p + 4 <= b.Length)
        {
            if (b[p] != 0xFF) return 0;
            byte marker = b[p + 1];
            if (marker == 0xFF) { p++; continue; } // fill byte
            if (marker is 0x01 or 0xD8 or (>= 0xD0 and <= 0xD7)) { p += 2; continue; } // TEM, SOI, RSTn: no length
            if (marker is 0xDA or 0xD9) return 0; // start of scan / end of image before any frame header
            int length = BinaryPrimitives.ReadUInt16BigEndian(b.AsSpan(p + 2));
            // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC): length, precision, height, width, components.
            bool frame = marker is >= 0xC0 and <= 0xCF && marker is not (0xC4 or 0xC8 or 0xCC);
            if (frame) return p + 9 < b.Length ? b[p + 9] : 0;
            p += 2 + length;
        }
        return 0;
    }

    /// <summary>
    /// PIL's BmpImagePlugin: up to 8 bits per pixel is "P", unless the palette is exactly the gray ramp
    /// (then "L", or "1" for two colours); 32-bit with a bitfield alpha mask is "RGBA"; the rest "RGB".
    /// </summary>
    static PilImageMode BmpMode(byte[] b)
    {
        if (b.Length < 18) return PilImageMode.RGB;
        int headerSize = BinaryPrimitives.ReadInt32LittleEndian(b.AsSpan(14));
        bool core = headerSize == 12; // OS/2 1.x header: 16-bit fields, 3-byte palette entries
        if (b.Length < 14 + headerSize) return PilImageMode.RGB;
        int bits = core ? BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(24)) : BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(28));
        if (bits <= 8)
        {
            long colours = core ? 0 : BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(46));
            if (colours == 0 || colours > 1 << bits) colours = 1 << bits;
            int entry = core ? 3 : 4;
            int palette = 14 + headerSize;
            if (!core && headerSize == 40 && BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(30)) == 3) palette += 12;
            bool gray = palette + colours * entry <= b.Length;
            for (int i = 0; gray && i < colours; i++)
            {
                int expected = colours == 2 ? i * 255 : i;
                var e = b.AsSpan(palette + i * entry, 3);
                gray = e[0] == expected && e[1] == expected && e[2] == expected;
            }
            return gray ? (colours == 2 ? PilImageMode.Bilevel : PilImageMode.L) : PilImageMode.P;
        }
        if (bits == 32 && !core && BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(30)) == 3 && headerSize >= 56
            && BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(66)) != 0)
            return PilImageMode.RGBA;
        return PilImageMode.RGB;
    }
}
