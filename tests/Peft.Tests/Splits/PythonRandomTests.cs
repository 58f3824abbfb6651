using System.Globalization;
using System.Numerics;
using System.Text.Json;
using Peft.Data.Splits;

namespace Peft.Tests.Splits;

/// <summary>PythonRandom against CPython 3.11's random.Random (Fixtures/splits/random.json).</summary>
public class PythonRandomTests
{
    static JsonElement F => SplitFixtures.Random;

    static BigInteger Big(JsonElement e) => BigInteger.Parse(e.GetString()!, CultureInfo.InvariantCulture);

    public static TheoryData<string> Seeds()
    {
        var data = new TheoryData<string>();
        foreach (var s in F.GetProperty("seeds").EnumerateArray())
            data.Add(s.GetProperty("seed").GetString()!);
        return data;
    }

    static JsonElement SeedCase(string seed) =>
        F.GetProperty("seeds").EnumerateArray().Single(s => s.GetProperty("seed").GetString() == seed);

    [Theory]
    [MemberData(nameof(Seeds))]
    public void RandomMatchesPythonBitForBit(string seed)
    {
        var c = SeedCase(seed);
        var rng = new PythonRandom(BigInteger.Parse(seed, CultureInfo.InvariantCulture));
        var ints = c.GetProperty("random_int53").EnumerateArray().Select(Big).ToArray();
        var hex = c.GetProperty("random_hex").EnumerateArray().Select(e => e.GetString()!).ToArray();
        Assert.Equal(24, ints.Length);
        for (int i = 0; i < ints.Length; i++)
        {
            double x = rng.Random();
            Assert.Equal(ints[i], new BigInteger(x * 9007199254740992.0));
            Assert.Equal(hex[i], PythonFloatHex(x));
        }
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void GetRandBits32StreamMatchesPython(string seed)
    {
        var rng = new PythonRandom(BigInteger.Parse(seed, CultureInfo.InvariantCulture));
        var expected = SeedCase(seed).GetProperty("getrandbits32").EnumerateArray().Select(e => e.GetUInt32()).ToArray();
        Assert.Equal(expected, expected.Select(_ => (uint)rng.GetRandBits64(32)).ToArray());
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void GetRandBitsOfEveryWidthMatchesPython(string seed)
    {
        var rng = new PythonRandom(BigInteger.Parse(seed, CultureInfo.InvariantCulture));
        foreach (var step in SeedCase(seed).GetProperty("getrandbits_sequence").EnumerateArray())
        {
            int k = step.GetProperty("k").GetInt32();
            Assert.True(Big(step.GetProperty("value")) == rng.GetRandBits(k), $"getrandbits({k}) after seed {seed}");
        }
    }

    [Fact]
    public void FixturesCoverSeedsAndBothSampleAlgorithms()
    {
        var seeds = F.GetProperty("seeds").EnumerateArray().Select(s => s.GetProperty("seed").GetString()!).ToHashSet();
        Assert.Superset(new HashSet<string> { "0", "1", "2", "3", "42", "-7", "1099511627783" }, seeds); // 2**40+7
        Assert.Contains(seeds, s => BigInteger.Parse(s, CultureInfo.InvariantCulture) > BigInteger.Pow(2, 64));
        var algorithms = F.GetProperty("samples").EnumerateArray().Select(s => s.GetProperty("algorithm").GetString()).ToList();
        Assert.True(algorithms.Count(a => a == "pool") >= 10 && algorithms.Count(a => a == "set") >= 10);
    }

    [Fact]
    public void NegativeSeedIsItsAbsoluteValue()
    {
        var a = new PythonRandom(-7);
        var b = new PythonRandom(7);
        for (int i = 0; i < 10; i++)
            Assert.Equal(b.NextUInt32(), a.NextUInt32());
        Assert.NotEqual(new PythonRandom(8).NextUInt32(), new PythonRandom(7).NextUInt32());
    }

    public static TheoryData<int> SampleCases()
    {
        var data = new TheoryData<int>();
        for (int i = 0; i < F.GetProperty("samples").GetArrayLength(); i++)
            data.Add(i);
        return data;
    }

    [Theory]
    [MemberData(nameof(SampleCases))]
    public void SampleMatchesPython(int index)
    {
        var c = F.GetProperty("samples")[index];
        long n = c.GetProperty("n").GetInt64();
        int k = c.GetProperty("k").GetInt32();
        Assert.Equal(c.GetProperty("algorithm").GetString() == "pool", PythonRandom.SampleUsesPool(n, k));
        var rng = new PythonRandom(c.GetProperty("seed").GetInt32());
        var first = c.GetProperty("first").EnumerateArray().Select(e => e.GetInt64()).ToList();
        var second = c.GetProperty("second").EnumerateArray().Select(e => e.GetInt64()).ToList();
        Assert.Equal(first, rng.SampleIndices(n, k));
        Assert.Equal(second, rng.SampleIndices(n, k));
        if (n <= 100_000)
        {
            // The same draws through Sample<T> on a list of strings.
            var names = Enumerable.Range(0, (int)n).Select(i => $"item{i}").ToArray();
            rng = new PythonRandom(c.GetProperty("seed").GetInt32());
            Assert.Equal(first.Select(i => $"item{i}"), rng.Sample(names, k));
            Assert.Equal(second.Select(i => $"item{i}"), rng.Sample(names, k));
        }
    }

    [Fact]
    public void ShuffleMatchesPython()
    {
        foreach (var c in F.GetProperty("shuffles").EnumerateArray())
        {
            var rng = new PythonRandom(c.GetProperty("seed").GetInt32());
            var xs = Enumerable.Range(0, c.GetProperty("n").GetInt32()).ToList();
            rng.Shuffle(xs);
            Assert.Equal(SplitFixtures.Ints(c.GetProperty("result")), xs);
        }
    }

    [Fact]
    public void RandRangeRandIntAndChoiceMatchPython()
    {
        foreach (var c in F.GetProperty("ranges").EnumerateArray())
        {
            var rng = new PythonRandom(c.GetProperty("seed").GetInt32());
            long a = long.Parse(c.GetProperty("start").GetString()!, CultureInfo.InvariantCulture);
            long b = long.Parse(c.GetProperty("stop").GetString()!, CultureInfo.InvariantCulture);
            Assert.Equal(c.GetProperty("randrange").EnumerateArray().Select(e => e.GetString()),
                Enumerable.Range(0, 12).Select(_ => rng.RandRange(a, b).ToString(CultureInfo.InvariantCulture)).ToList());
            Assert.Equal(c.GetProperty("randint_after").EnumerateArray().Select(e => e.GetString()),
                Enumerable.Range(0, 12).Select(_ => rng.RandInt(a, b).ToString(CultureInfo.InvariantCulture)).ToList());
        }
        var choice = F.GetProperty("choice");
        var r = new PythonRandom(choice.GetProperty("seed").GetInt32());
        var population = choice.GetProperty("population").GetString()!.ToCharArray();
        Assert.Equal(choice.GetProperty("result").GetString(), new string(Enumerable.Range(0, 20).Select(_ => r.Choice(population)).ToArray()));
    }

    [Fact]
    public void SampleRejectsKOutsidePopulation()
    {
        var rng = new PythonRandom(1);
        Assert.Throws<ArgumentOutOfRangeException>(() => rng.Sample(new[] { 1, 2 }, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => rng.Sample(new[] { 1, 2 }, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => rng.RandBelow(0));
    }

    /// <summary>Python's float.hex for finite non-negative doubles below 1 (enough for random()).</summary>
    static string PythonFloatHex(double x)
    {
        if (x == 0)
            return "0x0.0p+0";
        long bits = BitConverter.DoubleToInt64Bits(x);
        int exp = (int)((bits >> 52) & 0x7ff) - 1023;
        long mantissa = bits & 0xfffffffffffffL;
        return $"0x1.{mantissa:x13}p{(exp >= 0 ? "+" : "-")}{Math.Abs(exp)}";
    }
}
