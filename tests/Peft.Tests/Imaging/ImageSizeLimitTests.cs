using System.Buffers.Binary;
using System.Text;
using Peft.Imaging;

namespace Peft.Tests.Imaging;

/// <summary>Images too large to decode fail with the file's name and the limit, not with an OverflowException.</summary>
public sealed class ImageSizeLimitTests() : TempDirectory("peft-image-size-")
{
    [Theory]
    [InlineData(25000, 25000)]
    [InlineData(100000, 2000)]
    public void AnImageAbovePilsPixelLimitIsRefusedNamingTheFile(int width, int height)
    {
        var path = Temp("huge.png");
        File.WriteAllBytes(path, PngHeaderOnly(width, height)); // the header claims the size; no pixel is decoded
        var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(path));
        Assert.Equal(path, e.ImageName);
        Assert.Contains($"{width}x{height} = {(long)width * height:N0} pixels, more than the limit of 178,956,970", e.Message);
    }

    [Fact]
    public void ThePixelLimitIsPils()
    {
        // PIL 9.4: MAX_IMAGE_PIXELS = int(1024 * 1024 * 1024 // 4 // 3); above twice that, Image.open raises.
        Assert.Equal(2L * 89_478_485, ImageDecoder.MaxPixels);
    }

    /// <summary>An 8-bit RGB PNG's signature, IHDR, a token IDAT and IEND, with correct CRCs.</summary>
    static byte[] PngHeaderOnly(int width, int height)
    {
        using var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; // bit depth
        ihdr[9] = 2; // colour type RGB
        Chunk(png, "IHDR", ihdr);
        Chunk(png, "IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    static void Chunk(Stream s, string type, byte[] data)
    {
        var header = new byte[8];
        BinaryPrimitives.WriteInt32BigEndian(header, data.Length);
        Encoding.ASCII.GetBytes(type, header.AsSpan(4));
        s.Write(header);
        s.Write(data);
        var crc = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32([.. header.AsSpan(4).ToArray(), .. data]));
        s.Write(crc);
    }

    static uint Crc32(byte[] bytes)
    {
        uint c = 0xFFFFFFFF;
        foreach (var b in bytes)
        {
            c ^= b;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
        }
        return ~c;
    }
}
