using Peft.Data.Randomness;
namespace Peft.Data.Synthetic;

/// <summary>
/// Renders a <see cref="Scene"/> to 8-bit RGB. Backgrounds are computed per pixel (patterns supersampled 4×4), shapes
/// through <see cref="CoverageMask"/>, compositing in doubles, then rounded: every step is IEEE arithmetic, so the
/// bytes depend only on the scene and the image's generator.
/// </summary>
static class Renderer
{
    const int Sub = 4;

    // Per-thread scratch buffers: a 64 px image needs ~100 KB of doubles, which would otherwise land on the large object heap every time.
    [ThreadStatic] static double[]? _px;
    [ThreadStatic] static CoverageMask? _mask, _clip;

    public static byte[] Render(Scene scene, int size, SplitMix64 rng)
    {
        if (_px is null || _px.Length != size * size * 3) _px = new double[size * size * 3];
        if (_mask is null || _mask.Size != size) { _mask = new CoverageMask(size); _clip = new CoverageMask(size); }
        var px = _px;
        var mask = _mask;
        mask.Clear();
        if (scene.Style == RenderStyle.Filled)
        {
            PaintBackground(px, size, scene.Background, rng);
            foreach (var o in scene.Objects) PaintFilled(px, size, o, mask);
        }
        else
        {
            PaintPaper(px, size, scene.Background, scene.Sketch!, rng);
            foreach (var o in scene.Objects) PaintSketch(px, size, o, scene.Sketch!, mask, rng);
        }
        var rgb = new byte[px.Length];
        for (int i = 0; i < px.Length; i++) rgb[i] = (byte)Math.Clamp((int)Math.Round(px[i]), 0, 255);
        return rgb;
    }

    static void Set(double[] px, int i, Rgb c)
    {
        px[3 * i] = c.R; px[3 * i + 1] = c.G; px[3 * i + 2] = c.B;
    }

    static void Blend(double[] px, int i, Rgb c, double a)
    {
        if (a <= 0) return;
        px[3 * i] += (c.R - px[3 * i]) * a;
        px[3 * i + 1] += (c.G - px[3 * i + 1]) * a;
        px[3 * i + 2] += (c.B - px[3 * i + 2]) * a;
    }

    static void PaintBackground(double[] px, int size, BackgroundSpec bg, SplitMix64 rng)
    {
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
            {
                int i = y * size + x;
                switch (bg.Kind)
                {
                    case BackgroundKind.Plain:
                        Set(px, i, bg.Color1);
                        break;
                    case BackgroundKind.Noisy:
                    {
                        double n = rng.Uniform(-bg.NoiseAmplitude, bg.NoiseAmplitude), a = bg.NoiseAmplitude / 3;
                        Set(px, i, new Rgb(bg.Color1.R + n + rng.Uniform(-a, a), bg.Color1.G + n + rng.Uniform(-a, a), bg.Color1.B + n + rng.Uniform(-a, a)));
                        break;
                    }
                    case BackgroundKind.Gradient:
                    {
                        double cx = x + 0.5 - size / 2.0, cy = y + 0.5 - size / 2.0;
                        double t = Math.Clamp((cx * bg.Direction.X + cy * bg.Direction.Y) / size + 0.5, 0, 1);
                        Set(px, i, Rgb.Lerp(bg.Color1, bg.Color2, t));
                        break;
                    }
                    default:
                    {
                        int hits = 0;
                        for (int sy = 0; sy < Sub; sy++)
                            for (int sx = 0; sx < Sub; sx++)
                                if (InPattern(bg, x + (sx + 0.5) / Sub, y + (sy + 0.5) / Sub)) hits++;
                        Set(px, i, Rgb.Lerp(bg.Color1, bg.Color2, hits / (double)(Sub * Sub)));
                        break;
                    }
                }
            }
    }

    static bool InPattern(BackgroundSpec bg, double x, double y)
    {
        double p = bg.Period;
        switch (bg.Kind)
        {
            case BackgroundKind.Striped:
            {
                double u = x * bg.Direction.X + y * bg.Direction.Y + bg.Offset.X;
                return Mod(u, p) < p / 2;
            }
            case BackgroundKind.Checkered:
                return ((long)Math.Floor((x + bg.Offset.X) / p) + (long)Math.Floor((y + bg.Offset.Y) / p) & 1) == 1;
            case BackgroundKind.Dotted:
            {
                double lx = Mod(x + bg.Offset.X, p) - p / 2, ly = Mod(y + bg.Offset.Y, p) - p / 2, r = p * 0.27;
                return lx * lx + ly * ly < r * r;
            }
            default:
                return false;
        }
    }

    static double Mod(double v, double m) => v - m * Math.Floor(v / m);

    static void PaintFilled(double[] px, int size, SceneObject o, CoverageMask mask)
    {
        mask.Clear();
        mask.Fill(Geometry.Place(o.Shape, o.Centre, o.Radius, o.RotationDegrees), evenOdd: o.Shape == Shape.Ring);
        var cov = mask.Coverage();
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
            {
                int i = y * size + x;
                if (cov[i] <= 0) continue;
                var c = o.Drawn;
                if (o.Shaded)
                {
                    double t = ((x + 0.5 - o.Centre.X) * o.ShadeDirection.X + (y + 0.5 - o.Centre.Y) * o.ShadeDirection.Y) / o.Radius;
                    c = c.Scale(Math.Clamp(1 + 0.2 * t, 0.75, 1.25));
                }
                Blend(px, i, c, cov[i]);
            }
    }

    static void PaintPaper(double[] px, int size, BackgroundSpec bg, SketchSpec sk, SplitMix64 rng)
    {
        for (int y = 0; y < size; y++)
        {
            bool rule = sk.RuledLines && (int)Math.Floor(Mod(y + sk.RuleOffset, sk.RulePeriod)) == 0;
            for (int x = 0; x < size; x++)
            {
                double v = sk.Paper + rng.Uniform(-bg.NoiseAmplitude, bg.NoiseAmplitude) - (rule ? 28 : 0);
                Set(px, y * size + x, new Rgb(v + 2, v + 1, v - 2)); // faintly warm paper
            }
        }
    }

    static void PaintSketch(double[] px, int size, SceneObject o, SketchSpec sk, CoverageMask mask, SplitMix64 rng)
    {
        var contours = Geometry.Place(o.Shape, o.Centre, o.Radius, o.RotationDegrees);
        var ink = new Rgb(sk.Ink, sk.Ink, sk.Ink);
        if (sk.Hatching)
        {
            // Diagonal pencil hatching clipped to the shape's inside, lighter than the outline.
            var fill = _clip!;
            fill.Clear();
            fill.Fill(contours, evenOdd: o.Shape == Shape.Ring);
            mask.Clear();
            double diag = size * 2.0;
            bool rising = rng.Chance(0.5);
            for (double c = -size; c < 2 * size; c += sk.HatchSpacing)
                mask.Stroke(rising ? [new(c, 0), new(c - diag, diag)] : [new(c, 0), new(c + diag, diag)], 0.7 * size / 64.0 + 0.3, closed: false);
            mask.IntersectWith(fill);
            Composite(px, mask.Coverage(), ink, 0.5);
        }
        int passes = sk.DoubleStroke ? 2 : 1;
        for (int pass = 0; pass < passes; pass++)
        {
            mask.Clear();
            var shift = pass == 0 ? default : new Vec2(rng.Uniform(-0.9, 0.9), rng.Uniform(-0.9, 0.9));
            foreach (var contour in contours)
                mask.Stroke(Wobble(Geometry.Densify(contour, 1.5), sk.Wobble, shift, rng), sk.StrokeWidth * (pass == 0 ? 1 : 0.7), closed: true);
            Composite(px, mask.Coverage(), ink, pass == 0 ? rng.Uniform(0.85, 1.0) : 0.6);
        }
    }

    static void Composite(double[] px, float[] cov, Rgb ink, double alpha)
    {
        for (int i = 0; i < cov.Length; i++) Blend(px, i, ink, cov[i] * alpha);
    }

    /// <summary>A hand-drawn line: each point pushed along the contour normal by a smooth random wave.</summary>
    static List<Vec2> Wobble(List<Vec2> points, double amplitude, Vec2 shift, SplitMix64 rng)
    {
        int n = points.Count;
        double f1 = 2 + rng.NextInt(2), f2 = 5 + 2 * rng.NextInt(2), p1 = rng.Uniform(0, DetMath.TwoPi), p2 = rng.Uniform(0, DetMath.TwoPi);
        var result = new List<Vec2>(n);
        for (int i = 0; i < n; i++)
        {
            Vec2 prev = points[(i - 1 + n) % n], next = points[(i + 1) % n], d = next - prev;
            double len = d.Length, t = DetMath.TwoPi * i / n;
            var normal = len < 1e-9 ? default : new Vec2(-d.Y / len, d.X / len);
            double off = amplitude * (DetMath.Sin(f1 * t + p1) + 0.5 * DetMath.Sin(f2 * t + p2)) / 1.5;
            result.Add(points[i] + normal * off + shift);
        }
        return result;
    }
}
