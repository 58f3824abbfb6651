using Peft.Data.Randomness;
using System.IO.Compression;
using Peft.Imaging;
using Peft.Data.Synthetic;

namespace Peft.Tests.Synthetic;

public class PrimitivesTests
{
    [Fact]
    public void SplitMix64_matches_the_reference_sequence()
    {
        // Reference outputs of Vigna's splitmix64.c for seed 1234567.
        var rng = new SplitMix64(1234567);
        Assert.Equal(6457827717110365317UL, rng.NextUInt64());
        Assert.Equal(3203168211198807973UL, rng.NextUInt64());
        Assert.Equal(9817491932198370423UL, rng.NextUInt64());
    }

    [Fact]
    public void SplitMix64_helpers_are_uniform_and_streams_differ()
    {
        var rng = new SplitMix64(42);
        var counts = new int[7];
        for (int i = 0; i < 70_000; i++) counts[rng.NextInt(7)]++;
        Assert.All(counts, c => Assert.InRange(c, 9_500, 10_500));
        for (int i = 0; i < 1000; i++) Assert.InRange(rng.NextDouble(), 0.0, 0.9999999999999999);
        Assert.NotEqual(SplitMix64.For(1, 1, 0).NextUInt64(), SplitMix64.For(1, 1, 1).NextUInt64());
        Assert.NotEqual(SplitMix64.For(1, 1, 0).NextUInt64(), SplitMix64.For(1, 2, 0).NextUInt64());
        Assert.NotEqual(SplitMix64.For(1, 1, 0).NextUInt64(), SplitMix64.For(2, 1, 0).NextUInt64());
        Assert.Equal(SplitMix64.For(9, 3, 5).NextUInt64(), SplitMix64.For(9, 3, 5).NextUInt64());
    }

    [Fact]
    public void Deterministic_sine_agrees_with_the_platform()
    {
        for (double x = -20; x <= 20; x += 0.0137)
        {
            Assert.Equal(Math.Sin(x), DetMath.Sin(x), 1e-13);
            Assert.Equal(Math.Cos(x), DetMath.Cos(x), 1e-13);
        }
    }

    [Theory]
    [InlineData(5, 3)]
    [InlineData(64, 64)]
    [InlineData(300, 7)]
    public void Png_writer_round_trips_through_an_independent_decoder(int width, int height)
    {
        var rng = new SplitMix64((ulong)(width * 1000 + height));
        foreach (var kind in new[] { "noise", "flat", "bands" })
        {
            var rgb = new byte[width * height * 3];
            for (int i = 0; i < rgb.Length; i++)
                rgb[i] = kind switch
                {
                    "noise" => (byte)rng.NextInt(256),
                    "flat" => 77,
                    _ => (byte)((i / 3 % width) / 4 * 37 + (i % 3) * 50),
                };
            byte[] png = PngWriter.Encode(rgb, width, height);
            var decoded = ImageDecoder.Decode(png, $"{kind}.png");
            Assert.Equal((width, height), (decoded.Width, decoded.Height));
            Assert.Equal(rgb, decoded.Rgb.Pixels);
            if (kind != "noise" && rgb.Length > 1000) Assert.True(png.Length < rgb.Length / 2, $"{kind}: {png.Length} bytes for {rgb.Length} raw");

            // The IDAT stream is valid zlib on its own (with its Adler-32 checked by .NET's inflater).
            int idat = IndexOf(png, "IDAT"u8) ;
            int length = png[idat - 4] << 24 | png[idat - 3] << 16 | png[idat - 2] << 8 | png[idat - 1];
            using var z = new ZLibStream(new MemoryStream(png, idat + 4, length), CompressionMode.Decompress);
            var raw = new MemoryStream();
            z.CopyTo(raw);
            Assert.Equal((width * 3 + 1) * height, raw.Length);
        }
    }

    static int IndexOf(byte[] haystack, ReadOnlySpan<byte> needle) => haystack.AsSpan().IndexOf(needle);

    [Fact]
    public void Coverage_of_a_disc_matches_its_area()
    {
        var mask = new CoverageMask(64);
        mask.Fill(Geometry.Place(Shape.Circle, new Vec2(30.3, 33.1), 17.2, 0));
        double area = mask.Coverage().Sum(c => (double)c);
        Assert.Equal(Math.PI * 17.2 * 17.2, area, 0.01 * Math.PI * 17.2 * 17.2);

        // Even-odd ring: the hole is empty.
        mask.Clear();
        mask.Fill(Geometry.Place(Shape.Ring, new Vec2(32, 32), 20, 0), evenOdd: true);
        var cov = mask.Coverage();
        Assert.Equal(0f, cov[32 * 64 + 32]);
        Assert.Equal(1f, cov[32 * 64 + 32 + 15]);
        Assert.Equal(0f, cov[0]);
    }

    [Fact]
    public void Every_shape_is_drawn_at_a_recognisable_size_and_shapes_differ()
    {
        var masks = new Dictionary<Shape, float[]>();
        foreach (var shape in Enum.GetValues<Shape>())
        {
            var mask = new CoverageMask(64);
            mask.Fill(Geometry.Place(shape, new Vec2(32, 32), 20, 0), evenOdd: shape == Shape.Ring);
            var cov = mask.Coverage();
            double area = cov.Sum(c => (double)c) / (Math.PI * 400);
            Assert.InRange(area, 0.3, 1.05); // between a thin crescent and a full disc
            Assert.Equal(0f, cov[0]); // fits inside the image with margin
            masks[shape] = cov;
        }
        foreach (var a in masks.Keys)
            foreach (var b in masks.Keys.Where(b => b > a))
            {
                double diff = masks[a].Zip(masks[b], (x, y) => Math.Abs(x - y)).Sum();
                Assert.True(diff > 60, $"{a} and {b} differ by only {diff:F1} pixels of coverage");
            }
    }
}
