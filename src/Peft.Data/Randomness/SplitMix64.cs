namespace Peft.Data.Randomness;

/// <summary>
/// SplitMix64 (Steele, Lea &amp; Flood 2014; the reference constants of Vigna's <c>splitmix64.c</c>): the project's
/// own seeded generator (synthetic world, ImageFolder splits, training views). Pure 64-bit integer arithmetic, so a
/// seed gives the same stream on every machine and runtime (unlike <see cref="System.Random"/>, whose algorithm is an
/// implementation detail, or torch's global generator). Not thread-safe: derive one generator per item (see
/// <see cref="For"/>), which also makes results independent of thread scheduling.
/// </summary>
public sealed class SplitMix64
{
    private ulong _state;

    public SplitMix64(ulong seed) => _state = seed;

    /// <summary>A generator for item <paramref name="index"/> of stream <paramref name="stream"/> under a global seed.</summary>
    public static SplitMix64 For(ulong seed, ulong stream, ulong index) =>
        new(Mix(Mix(seed ^ 0x6A09E667F3BCC908UL) ^ Mix(stream + 0xBB67AE8584CAA73BUL) * 31 ^ Mix(index + 0x3C6EF372FE94F82BUL)));

    /// <summary>The SplitMix64 finaliser: a bijective 64-bit mixer.</summary>
    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong NextUInt64()
    {
        _state += 0x9E3779B97F4A7C15UL;
        return Mix(_state);
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [lo, hi).</summary>
    public double Uniform(double lo, double hi) => lo + (hi - lo) * NextDouble();

    /// <summary>Uniform integer in [0, n) (Lemire's multiply-shift with rejection, so exactly uniform).</summary>
    public int NextInt(int n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), n, "must be positive");
        return (int)NextBelow((ulong)n);
    }

    /// <summary>Uniform integer in [0, bound), bound ≥ 1 (Lemire's multiply-shift with rejection).</summary>
    public ulong NextBelow(ulong bound)
    {
        ulong threshold = (0UL - bound) % bound;
        while (true)
        {
            ulong x = NextUInt64();
            UInt128 m = (UInt128)x * bound;
            if ((ulong)m >= threshold) return (ulong)(m >> 64);
        }
    }

    /// <summary>True with probability <paramref name="p"/>.</summary>
    public bool Chance(double p) => NextDouble() < p;

    public T Pick<T>(IReadOnlyList<T> items) => items[NextInt(items.Count)];

    /// <summary>A roughly normal deviate (sum of four uniforms, variance matched): no transcendental functions.</summary>
    public double Gaussianish(double sigma)
    {
        double s = NextDouble() + NextDouble() + NextDouble() + NextDouble() - 2.0; // variance 4/12
        return s * sigma * 1.7320508075688772;
    }
}
