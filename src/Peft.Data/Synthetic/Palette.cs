using Peft.Data.Randomness;
namespace Peft.Data.Synthetic;

/// <summary>An sRGB colour with float channels in [0, 255].</summary>
public readonly record struct Rgb(double R, double G, double B)
{
    public double DistanceTo(Rgb o)
    {
        double dr = R - o.R, dg = G - o.G, db = B - o.B;
        return Math.Sqrt(dr * dr + dg * dg + db * db);
    }

    public Rgb Scale(double f) => new(Clamp(R * f), Clamp(G * f), Clamp(B * f));

    public static Rgb Lerp(Rgb a, Rgb b, double t) => new(a.R + (b.R - a.R) * t, a.G + (b.G - a.G) * t, a.B + (b.B - a.B) * t);

    static double Clamp(double v) => v < 0 ? 0 : v > 255 ? 255 : v;

    /// <summary>HSV (hue in degrees, s and v in [0, 1]) to sRGB.</summary>
    public static Rgb FromHsv(double h, double s, double v)
    {
        h = ((h % 360) + 360) % 360;
        s = Math.Clamp(s, 0, 1);
        v = Math.Clamp(v, 0, 1);
        double c = v * s, hp = h / 60, x = c * (1 - Math.Abs(hp % 2 - 1)), m = v - c;
        (double r, double g, double b) = hp switch
        {
            < 1 => (c, x, 0.0),
            < 2 => (x, c, 0.0),
            < 3 => (0.0, c, x),
            < 4 => (0.0, x, c),
            < 5 => (x, 0.0, c),
            _ => (c, 0.0, x),
        };
        return new Rgb((r + m) * 255, (g + m) * 255, (b + m) * 255);
    }

    /// <summary>sRGB to HSV (hue in degrees, s and v in [0, 1]).</summary>
    public (double H, double S, double V) ToHsv()
    {
        double r = R / 255, g = G / 255, b = B / 255;
        double max = Math.Max(r, Math.Max(g, b)), min = Math.Min(r, Math.Min(g, b)), d = max - min;
        double h = d == 0 ? 0 : max == r ? 60 * (((g - b) / d) % 6) : max == g ? 60 * ((b - r) / d + 2) : 60 * ((r - g) / d + 4);
        if (h < 0) h += 360;
        return (h, max == 0 ? 0 : d / max, max);
    }
}

/// <summary>
/// A named object colour. Basic colours (<see cref="Parent"/> null) are what captions usually say; shades
/// (crimson, navy, ...) are near one basic colour and captions name them only sometimes, saying the parent otherwise.
/// </summary>
public sealed record NamedColor(string Name, Rgb Value, string? Parent)
{
    public bool IsShade => Parent != null;
}

/// <summary>The colours of the world and the per-image jitter applied to them.</summary>
public static class Palette
{
    static NamedColor C(string name, int r, int g, int b, string? parent = null) => new(name, new Rgb(r, g, b), parent);

    /// <summary>Twelve basic colours.</summary>
    public static IReadOnlyList<NamedColor> Basic { get; } =
    [
        C("red", 215, 35, 35), C("orange", 245, 135, 25), C("yellow", 240, 215, 40), C("green", 45, 165, 65),
        C("blue", 35, 85, 215), C("purple", 125, 55, 175), C("pink", 240, 125, 180), C("brown", 125, 80, 45),
        C("white", 240, 240, 240), C("black", 25, 25, 25), C("gray", 128, 128, 128), C("cyan", 40, 200, 215),
    ];

    /// <summary>Ten shades, each close to a basic colour.</summary>
    public static IReadOnlyList<NamedColor> Shades { get; } =
    [
        C("crimson", 170, 20, 60, "red"), C("scarlet", 250, 65, 20, "red"),
        C("navy", 25, 35, 120, "blue"), C("azure", 60, 140, 240, "blue"),
        C("lime", 150, 215, 45, "green"), C("olive", 110, 120, 40, "green"),
        C("violet", 155, 95, 225, "purple"), C("magenta", 215, 40, 170, "pink"),
        C("gold", 225, 175, 30, "yellow"), C("tan", 205, 165, 115, "brown"),
    ];

    public static IReadOnlyList<NamedColor> All { get; } = [.. Basic, .. Shades];

    public static NamedColor Get(string name) => All.First(c => c.Name == name);

    /// <summary>
    /// The colour as drawn in one image: hue ±4°, saturation ×[0.9, 1.1], value ×[0.88, 1.08] (small enough that
    /// a shade never crosses into its neighbour, large enough that no two images share an exact colour).
    /// </summary>
    public static Rgb Jitter(NamedColor color, SplitMix64 rng)
    {
        var (h, s, v) = color.Value.ToHsv();
        return Rgb.FromHsv(h + rng.Uniform(-4, 4), s * rng.Uniform(0.9, 1.1), v * rng.Uniform(0.88, 1.08));
    }
}
