using System.Buffers.Binary;

namespace Peft.Features;

/// <summary>An image's identity in the cache: the SHA-256 of its file (32 bytes), as four words for cheap hashing.</summary>
public readonly record struct ImageKey(ulong A, ulong B, ulong C, ulong D)
{
    public const int Size = 32;

    public static ImageKey FromBytes(ReadOnlySpan<byte> sha256) => sha256.Length != Size
        ? throw new ArgumentException($"an image key has {Size} bytes, not {sha256.Length}")
        : new(BinaryPrimitives.ReadUInt64BigEndian(sha256), BinaryPrimitives.ReadUInt64BigEndian(sha256[8..]),
              BinaryPrimitives.ReadUInt64BigEndian(sha256[16..]), BinaryPrimitives.ReadUInt64BigEndian(sha256[24..]));

    public static ImageKey FromHex(string hex) => FromBytes(Convert.FromHexString(hex));

    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, A);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], B);
        BinaryPrimitives.WriteUInt64BigEndian(destination[16..], C);
        BinaryPrimitives.WriteUInt64BigEndian(destination[24..], D);
    }

    /// <summary>Lower-case hex, as the image's SHA-256 is written elsewhere.</summary>
    public override string ToString()
    {
        Span<byte> bytes = stackalloc byte[Size];
        WriteTo(bytes);
        return Convert.ToHexStringLower(bytes);
    }
}
