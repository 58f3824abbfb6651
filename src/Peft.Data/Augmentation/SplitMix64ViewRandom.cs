using System.Buffers.Binary;
using Peft.Data.Randomness;
using System.Security.Cryptography;
using System.Text;

namespace Peft.Data.Augmentation;

/// <summary>
/// SplitMix64 (Steele, Lea and Flood 2014), seeded per training view from SHA-256 of (cell seed, image key,
/// view index), so a view is a pure function of those three: independent of the order views are made in,
/// of threads, and of which other views are cached. Not torch's generator, and not <see cref="Random"/>
/// (whose algorithm may change between .NET versions). One instance per view; not thread-safe.
/// </summary>
public sealed class SplitMix64ViewRandom : IViewRandom
{
    /// <summary>
    /// Names the generator and the seed derivation. Part of what a cached view depends on besides the
    /// <see cref="AugmentationSpec"/>; changing either must change this string.
    /// </summary>
    public const string Scheme = "splitmix64(sha256(seed,key,view))/v1";

    readonly SplitMix64 _generator;

    /// <summary>A generator started from a raw 64-bit state (the reference SplitMix64 seeding).</summary>
    public SplitMix64ViewRandom(ulong state) => _generator = new SplitMix64(state);

    /// <summary>
    /// The generator for view <paramref name="viewIndex"/> of the image identified by <paramref name="imageKey"/>
    /// (e.g. its dataset-relative path) under <paramref name="seed"/>. The hashed message is the seed (8 bytes,
    /// little-endian), the view index (4 bytes, little-endian), then the key in UTF-8, so no two inputs collide.
    /// </summary>
    public static SplitMix64ViewRandom ForView(long seed, string imageKey, int viewIndex)
    {
        ArgumentNullException.ThrowIfNull(imageKey);
        ArgumentOutOfRangeException.ThrowIfNegative(viewIndex);
        var message = new byte[12 + Encoding.UTF8.GetByteCount(imageKey)];
        BinaryPrimitives.WriteInt64LittleEndian(message, seed);
        BinaryPrimitives.WriteInt32LittleEndian(message.AsSpan(8), viewIndex);
        Encoding.UTF8.GetBytes(imageKey, message.AsSpan(12));
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(message, digest);
        return new SplitMix64ViewRandom(BinaryPrimitives.ReadUInt64LittleEndian(digest));
    }

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64() => _generator.NextUInt64();

    /// <summary>A double in [0, 1) from the top 53 bits.</summary>
    public double NextDouble() => _generator.NextDouble();

    public double NextUniform(double low, double high)
    {
        if (!(low <= high)) throw new ArgumentException($"Empty range [{low}, {high}).");
        double v = low + (high - low) * NextDouble();
        return v < high ? v : low; // rounding can reach high when the range is wide relative to low
    }

    public int NextInteger(int low, int highExclusive)
    {
        if (highExclusive <= low) throw new ArgumentException($"Empty range [{low}, {highExclusive}).");
        return (int)(low + (long)_generator.NextBelow((ulong)((long)highExclusive - low)));
    }
}
