using System.Numerics;

namespace Peft.Data.Splits;

/// <summary>
/// CPython 3's <c>random.Random</c> (the Mersenne Twister MT19937 generator of <c>_randommodule.c</c> and the
/// integer methods of <c>Lib/random.py</c>), reproducing its output bit for bit for integer seeds, so that
/// <c>random.seed(s); random.sample(items, k)</c> picks the same items here as in Dassl/CoOp.
/// </summary>
/// <remarks>
/// <para><b>Seeding</b> (<c>random.seed(int)</c>, version 2): the absolute value of the seed is split into 32-bit
/// words, least significant first (0 gives the single word 0), and fed to MT19937's <c>init_by_array</c>.</para>
/// <para><b>Versions</b>: for list populations, <c>sample</c>, <c>shuffle</c>, <c>_randbelow</c> (the
/// <c>getrandbits</c> rejection method with <c>k = n.bit_length()</c>), <c>randrange(start, stop)</c> and
/// <c>random()</c> consume and map the stream identically in CPython 3.7 through 3.11 (3.9 added <c>sample</c>'s
/// <c>counts=</c> keyword and deprecated set populations, 3.11 removed them and <c>shuffle</c>'s <c>random=</c>
/// argument; none of that changes the draws). The golden fixtures were made with CPython 3.11.</para>
/// <para>Not implemented: string/bytes/float seeds, <c>getstate</c>/<c>setstate</c>, the float distributions,
/// <c>choices</c>, and <c>randrange</c> with a step.</para>
/// </remarks>
public sealed class PythonRandom
{
    const int N = 624;
    const int M = 397;
    const uint MatrixA = 0x9908b0dfU;
    const uint UpperMask = 0x80000000U;
    const uint LowerMask = 0x7fffffffU;

    readonly uint[] _mt = new uint[N];
    int _index;

    /// <summary>Same as <c>random.Random(seed)</c>.</summary>
    public PythonRandom(BigInteger seed) => Seed(seed);

    /// <summary><c>random.seed(seed)</c> for an integer seed (negative seeds use their absolute value, as CPython does).</summary>
    public void Seed(BigInteger seed)
    {
        var magnitude = BigInteger.Abs(seed);
        byte[] bytes = magnitude.IsZero ? [] : magnitude.ToByteArray(isUnsigned: true, isBigEndian: false);
        int words = Math.Max(1, (bytes.Length + 3) / 4);
        var key = new uint[words];
        for (int i = 0; i < bytes.Length; i++)
            key[i / 4] |= (uint)bytes[i] << (8 * (i % 4));
        InitByArray(key);
    }

    void InitGenrand(uint s)
    {
        _mt[0] = s;
        for (int i = 1; i < N; i++)
            _mt[i] = unchecked(1812433253U * (_mt[i - 1] ^ (_mt[i - 1] >> 30)) + (uint)i);
        _index = N;
    }

    void InitByArray(uint[] key)
    {
        InitGenrand(19650218U);
        int i = 1, j = 0;
        for (int k = Math.Max(N, key.Length); k > 0; k--)
        {
            _mt[i] = unchecked((_mt[i] ^ ((_mt[i - 1] ^ (_mt[i - 1] >> 30)) * 1664525U)) + key[j] + (uint)j);
            i++;
            j++;
            if (i >= N)
            {
                _mt[0] = _mt[N - 1];
                i = 1;
            }
            if (j >= key.Length)
                j = 0;
        }
        for (int k = N - 1; k > 0; k--)
        {
            _mt[i] = unchecked((_mt[i] ^ ((_mt[i - 1] ^ (_mt[i - 1] >> 30)) * 1566083941U)) - (uint)i);
            i++;
            if (i >= N)
            {
                _mt[0] = _mt[N - 1];
                i = 1;
            }
        }
        _mt[0] = 0x80000000U; // MSB is 1, assuring a non-zero initial array
    }

    void Twist()
    {
        for (int kk = 0; kk < N; kk++)
        {
            uint y = (_mt[kk] & UpperMask) | (_mt[(kk + 1) % N] & LowerMask);
            _mt[kk] = _mt[(kk + M) % N] ^ (y >> 1) ^ ((y & 1U) != 0 ? MatrixA : 0U);
        }
        _index = 0;
    }

    /// <summary>The next 32-bit output of MT19937 (<c>genrand_uint32</c>).</summary>
    public uint NextUInt32()
    {
        if (_index >= N)
            Twist();
        uint y = _mt[_index++];
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c5680U;
        y ^= (y << 15) & 0xefc60000U;
        y ^= y >> 18;
        return y;
    }

    /// <summary><c>random()</c>: a double in [0, 1) made of 53 random bits (27 from one word, 26 from the next).</summary>
    public double Random()
    {
        uint a = NextUInt32() >> 5, b = NextUInt32() >> 6;
        return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0);
    }

    /// <summary><c>getrandbits(k)</c> for 0 ≤ k ≤ 64: words are drawn least significant first and the last one keeps its
    /// top bits.</summary>
    public ulong GetRandBits64(int k)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(k, 64);
        if (k == 0)
            return 0;
        if (k <= 32)
            return NextUInt32() >> (32 - k);
        ulong low = NextUInt32();
        ulong high = NextUInt32() >> (64 - k);
        return low | (high << 32);
    }

    /// <summary><c>getrandbits(k)</c> for any k ≥ 0.</summary>
    public BigInteger GetRandBits(int k)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        if (k <= 64)
            return GetRandBits64(k);
        int words = (k - 1) / 32 + 1;
        var bytes = new byte[words * 4];
        for (int i = 0, left = k; i < words; i++, left -= 32)
        {
            uint r = NextUInt32();
            if (left < 32)
                r >>= 32 - left;
            BitConverter.TryWriteBytes(bytes.AsSpan(i * 4, 4), r);
            if (!BitConverter.IsLittleEndian)
                bytes.AsSpan(i * 4, 4).Reverse();
        }
        return new BigInteger(bytes, isUnsigned: true, isBigEndian: false);
    }

    /// <summary><c>_randbelow(n)</c> for n ≥ 1: <c>getrandbits(n.bit_length())</c> until the value is below n.</summary>
    public long RandBelow(long n)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        return (long)RandBelow((ulong)n);
    }

    ulong RandBelow(ulong n)
    {
        int k = 64 - BitOperations.LeadingZeroCount(n);
        ulong r = GetRandBits64(k);
        while (r >= n)
            r = GetRandBits64(k);
        return r;
    }

    int RandBelow(int n) => (int)RandBelow((ulong)n);

    /// <summary><c>randrange(start, stop)</c> (step 1): <c>start + _randbelow(stop - start)</c>.</summary>
    public long RandRange(long start, long stop)
    {
        if (stop <= start)
            throw new ArgumentException($"empty range in randrange({start}, {stop})");
        ulong width = unchecked((ulong)stop - (ulong)start);
        return unchecked(start + (long)RandBelow(width));
    }

    /// <summary><c>randint(a, b)</c> = <c>randrange(a, b + 1)</c>.</summary>
    public long RandInt(long a, long b) => RandRange(a, checked(b + 1));

    /// <summary><c>choice(seq)</c>: <c>seq[_randbelow(len(seq))]</c>.</summary>
    public T Choice<T>(IReadOnlyList<T> seq)
    {
        if (seq.Count == 0)
            throw new ArgumentException("Cannot choose from an empty sequence", nameof(seq));
        return seq[RandBelow(seq.Count)];
    }

    /// <summary><c>shuffle(x)</c> in place: for i from len-1 down to 1, swap x[i] with x[_randbelow(i + 1)].</summary>
    public void Shuffle<T>(IList<T> x)
    {
        for (int i = x.Count - 1; i >= 1; i--)
        {
            int j = RandBelow(i + 1);
            (x[i], x[j]) = (x[j], x[i]);
        }
    }

    /// <summary>
    /// <c>sample(population, k)</c>: k distinct items of the population, in selection order (see <see cref="SampleIndices"/>).
    /// </summary>
    public List<T> Sample<T>(IReadOnlyList<T> population, int k)
    {
        ArgumentNullException.ThrowIfNull(population);
        var positions = SampleIndices(population.Count, k);
        var result = new List<T>(k);
        foreach (long j in positions)
            result.Add(population[(int)j]);
        return result;
    }

    /// <summary>
    /// <c>sample(range(n), k)</c>, which picks the same positions as <c>sample(population, k)</c> for any population of
    /// length n. Like CPython it tracks either the remaining pool (the item drawn is replaced by the last unselected one)
    /// or the set of positions already chosen (redrawing on repeats), depending on <see cref="SampleUsesPool"/>.
    /// </summary>
    public List<long> SampleIndices(long n, int k)
    {
        if (n < 0 || k < 0 || k > n)
            throw new ArgumentOutOfRangeException(nameof(k), $"Sample larger than population or is negative (n={n}, k={k})");
        var result = new List<long>(k);
        if (SampleUsesPool(n, k))
        {
            // n <= setsize here, which is at most about 12k + 21, so the pool fits in memory whenever k does.
            var pool = new long[n];
            for (int i = 0; i < pool.Length; i++)
                pool[i] = i;
            for (int i = 0; i < k; i++)
            {
                long j = RandBelow(n - i);
                result.Add(pool[j]);
                pool[j] = pool[n - i - 1];
            }
        }
        else
        {
            var selected = new HashSet<long>();
            for (int i = 0; i < k; i++)
            {
                long j = RandBelow(n);
                while (!selected.Add(j))
                    j = RandBelow(n);
                result.Add(j);
            }
        }
        return result;
    }

    /// <summary>
    /// CPython's switch between <c>sample</c>'s two algorithms: <c>setsize = 21</c>, plus
    /// <c>4 ** ceil(log(3k, 4))</c> when k &gt; 5; the pool is used when <c>n &lt;= setsize</c>.
    /// (3k is never a power of 4, so the floating-point logarithm cannot land on an integer boundary.)
    /// </summary>
    public static bool SampleUsesPool(long n, long k)
    {
        double setSize = 21;
        if (k > 5)
            setSize += Math.Pow(4, Math.Ceiling(Math.Log(k * 3.0) / Math.Log(4)));
        return n <= setSize;
    }
}
