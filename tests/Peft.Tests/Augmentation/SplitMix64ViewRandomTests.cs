using Peft.Data.Augmentation;

namespace Peft.Tests.Augmentation;

public class SplitMix64ViewRandomTests
{
    [Fact]
    public void MatchesTheReferenceSequence()
    {
        // Output of the reference splitmix64.c for seed 1234567.
        var random = new SplitMix64ViewRandom(1234567);
        ulong[] expected = [6457827717110365317, 3203168211198807973, 9817491932198370423, 4593380528125082431, 16408922859458223821];
        Assert.Equal(expected, expected.Select(_ => random.NextUInt64()).ToArray());
    }

    [Fact]
    public void ViewSeedingIsPinned()
    {
        // The derivation is part of every cached view (SplitMix64ViewRandom.Scheme): it must not drift silently.
        // Value from an independent Python computation: sha256(pack("<qi", 1, 0) + key), first 8 bytes little-endian.
        Assert.Equal(10753878802290459628UL, SplitMix64ViewRandom.ForView(1, "n01440764/n01440764_10026.JPEG", 0).NextUInt64());
        Assert.Equal("splitmix64(sha256(seed,key,view))/v1", SplitMix64ViewRandom.Scheme);
    }

    [Fact]
    public void EachInputOfTheViewSeedMatters()
    {
        ulong First(long seed, string key, int view) => SplitMix64ViewRandom.ForView(seed, key, view).NextUInt64();
        var values = new[]
        {
            First(1, "a.jpg", 0), First(2, "a.jpg", 0), First(1, "b.jpg", 0), First(1, "a.jpg", 1), First(1, "a.jpg ", 0),
        };
        Assert.Equal(values.Length, values.Distinct().Count());
        Assert.Equal(First(1, "a.jpg", 0), First(1, "a.jpg", 0));
    }

    [Fact]
    public void IntegersCoverTheRangeUniformly()
    {
        var random = new SplitMix64ViewRandom(42);
        var counts = new int[7];
        const int n = 70_000;
        for (int i = 0; i < n; i++) counts[random.NextInteger(3, 10) - 3]++;
        // Expected 10000 each; sd ~ 93, so 500 is > 5 sd.
        Assert.All(counts, c => Assert.InRange(c, 9_500, 10_500));
        Assert.Equal(5, new SplitMix64ViewRandom(1).NextInteger(5, 6));
        Assert.Throws<ArgumentException>(() => random.NextInteger(4, 4));
    }

    [Fact]
    public void UniformsStayInTheHalfOpenRange()
    {
        var random = new SplitMix64ViewRandom(7);
        double min = double.MaxValue, max = double.MinValue, sum = 0;
        const int n = 100_000;
        for (int i = 0; i < n; i++)
        {
            double v = random.NextUniform(-0.25, 0.75);
            Assert.InRange(v, -0.25, 0.75);
            Assert.NotEqual(0.75, v);
            min = Math.Min(min, v);
            max = Math.Max(max, v);
            sum += v;
        }
        Assert.InRange(sum / n, 0.24, 0.26);
        Assert.True(min < -0.249 && max > 0.749);
    }
}
