using Peft.Data.Randomness;
namespace Peft.Data.Synthetic;

/// <summary>Draws scenes. All randomness comes from the image's own <see cref="SplitMix64"/>.</summary>
static class SceneSampler
{
    static readonly double[] RadiusFraction = [0.11, 0.17, 0.25]; // small, medium, large (of the image side)
    static readonly double[] GridFraction = [0.22, 0.5, 0.78];
    static readonly Vec2[] Directions8 =
    [
        new(1, 0), new(0.7071067811865476, 0.7071067811865476), new(0, 1), new(-0.7071067811865476, 0.7071067811865476),
        new(-1, 0), new(-0.7071067811865476, -0.7071067811865476), new(0, -1), new(0.7071067811865476, -0.7071067811865476),
    ];

    /// <summary>Object colours: a basic colour 60% of the time, a shade 40%.</summary>
    public static NamedColor RandomColor(SplitMix64 rng) => rng.Chance(0.6) ? rng.Pick(Palette.Basic) : rng.Pick(Palette.Shades);

    /// <summary>A filled-style scene with one object (or two with probability <paramref name="twoObjects"/>).</summary>
    public static Scene Filled(SplitMix64 rng, int size, double twoObjects, Shape? shape = null, NamedColor? color = null,
        IReadOnlyList<SizeClass>? sizes = null)
    {
        sizes ??= [SizeClass.Small, SizeClass.Medium, SizeClass.Large];
        var objects = new List<SceneObject>();
        Relation? relation = null;
        if (rng.Chance(twoObjects))
        {
            relation = (Relation)rng.NextInt(4);
            objects.AddRange(Pair(rng, size, relation.Value, shape, color));
        }
        else
        {
            var s = shape ?? (Shape)rng.NextInt(10);
            var c = color ?? RandomColor(rng);
            var sc = rng.Pick(sizes);
            var placement = (Placement)rng.NextInt(9);
            double r = Radius(rng, size, sc), margin = r * 1.2 + 0.5;
            int gx = (int)placement % 3, gy = (int)placement / 3;
            double x = Math.Clamp((GridFraction[gx] + rng.Uniform(-0.05, 0.05)) * size, margin, size - margin);
            double y = Math.Clamp((GridFraction[gy] + rng.Uniform(-0.05, 0.05)) * size, margin, size - margin);
            objects.Add(MakeObject(rng, s, c, sc, placement, new Vec2(x, y), r));
        }
        return new Scene(RenderStyle.Filled, objects, relation, RandomBackground(rng, size, objects), null);
    }

    static double Radius(SplitMix64 rng, int size, SizeClass sc) => RadiusFraction[(int)sc] * size * rng.Uniform(0.92, 1.08);

    static SceneObject MakeObject(SplitMix64 rng, Shape s, NamedColor c, SizeClass sc, Placement placement, Vec2 centre, double r)
    {
        var drawn = Palette.Jitter(c, rng);
        double rotation = rng.Uniform(-15, 15);
        bool shaded = rng.Chance(0.35);
        var dir = rng.Pick(Directions8);
        return new SceneObject(s, c, drawn, sc, placement, centre, r, rotation, shaded, dir);
    }

    /// <summary>Two non-overlapping small/medium objects; the first stands in <paramref name="relation"/> to the second.</summary>
    static IEnumerable<SceneObject> Pair(SplitMix64 rng, int size, Relation relation, Shape? shape, NamedColor? color)
    {
        // With a forced shape/colour (task images) the first object carries it; the second is random.
        var s1 = shape ?? (Shape)rng.NextInt(10);
        var s2 = (Shape)rng.NextInt(10);
        var c1 = color ?? RandomColor(rng);
        NamedColor c2;
        do c2 = RandomColor(rng); while (c2.Name == c1.Name);
        var z1 = rng.Chance(0.5) ? SizeClass.Small : SizeClass.Medium;
        var z2 = rng.Chance(0.5) ? SizeClass.Small : SizeClass.Medium;
        for (int attempt = 0; ; attempt++)
        {
            if (attempt > 400) throw new InvalidOperationException("could not place two objects (image too small?)");
            if (attempt == 40) z1 = z2 = SizeClass.Small;
            double r1 = Radius(rng, size, z1), r2 = Radius(rng, size, z2);
            double m1 = r1 * 1.2 + 0.5, m2 = r2 * 1.2 + 0.5;
            // Along the relation's axis the first object goes to the low or high side; across it both stay central.
            bool horizontal = relation is Relation.LeftOf or Relation.RightOf;
            bool firstLow = relation is Relation.LeftOf or Relation.Above;
            double a1 = firstLow ? rng.Uniform(m1, 0.45 * size) : rng.Uniform(0.55 * size, size - m1);
            double a2 = firstLow ? rng.Uniform(0.55 * size, size - m2) : rng.Uniform(m2, 0.45 * size);
            double b1 = Math.Clamp(size * (0.5 + rng.Uniform(-0.15, 0.15)), m1, size - m1);
            double b2 = Math.Clamp(size * (0.5 + rng.Uniform(-0.15, 0.15)), m2, size - m2);
            if (Math.Abs(a1 - a2) < 1.5 * Math.Abs(b1 - b2)) continue;
            if (Math.Abs(a1 - a2) < 1.15 * (r1 + r2) + 1) continue;
            Vec2 p1 = horizontal ? new(a1, b1) : new(b1, a1), p2 = horizontal ? new(a2, b2) : new(b2, a2);
            var (pl1, pl2) = relation switch
            {
                Relation.LeftOf => (Placement.Left, Placement.Right),
                Relation.RightOf => (Placement.Right, Placement.Left),
                Relation.Above => (Placement.Top, Placement.Bottom),
                _ => (Placement.Bottom, Placement.Top),
            };
            return [MakeObject(rng, s1, c1, z1, pl1, p1, r1), MakeObject(rng, s2, c2, z2, pl2, p2, r2)];
        }
    }

    /// <summary>A background whose colours keep every object clearly visible (RGB distance ≥ 100 and ≥ 80).</summary>
    static BackgroundSpec RandomBackground(SplitMix64 rng, int size, IReadOnlyList<SceneObject> objects)
    {
        var kind = (BackgroundKind)rng.NextInt(6);
        Rgb c1 = default, c2 = default;
        double best = -1;
        for (int attempt = 0; attempt < 60; attempt++)
        {
            double h = rng.Uniform(0, 360), s = rng.Chance(0.3) ? rng.Uniform(0, 0.08) : rng.Uniform(0.1, 0.5), v = rng.Uniform(0.18, 0.95);
            var a = Rgb.FromHsv(h, s, v);
            double dv = rng.Uniform(0.14, 0.3) * (v > 0.55 ? -1 : 1);
            var b = kind == BackgroundKind.Plain || kind == BackgroundKind.Noisy ? a : Rgb.FromHsv(h + rng.Uniform(-20, 20), s, v + dv);
            double d = objects.Min(o => Math.Min(o.Drawn.DistanceTo(a), o.Drawn.DistanceTo(b)));
            if (d > best) { best = d; c1 = a; c2 = b; }
            if (d >= 100) break;
        }
        double scale = size / 64.0;
        double period = kind switch
        {
            BackgroundKind.Striped => rng.Uniform(6, 12) * scale,
            BackgroundKind.Dotted => rng.Uniform(6, 10) * scale,
            BackgroundKind.Checkered => rng.Uniform(4, 9) * scale,
            _ => 0,
        };
        var direction = kind == BackgroundKind.Striped ? rng.Pick(Directions8[..4]) : rng.Pick(Directions8);
        var offset = new Vec2(rng.Uniform(0, 16), rng.Uniform(0, 16));
        double noise = kind == BackgroundKind.Noisy ? rng.Uniform(22, 40) : 0;
        return new BackgroundSpec(kind, c1, c2, Math.Max(period, 2), direction, offset, noise);
    }

    /// <summary>The pencil-sketch scene of the shift task: one outlined object on paper.</summary>
    public static Scene Sketch(SplitMix64 rng, int size, Shape shape)
    {
        var sc = rng.Chance(0.5) ? SizeClass.Medium : SizeClass.Large;
        double r = Radius(rng, size, sc), margin = r * 1.2 + 1;
        double x = rng.Uniform(margin, size - margin), y = rng.Uniform(margin, size - margin);
        var obj = new SceneObject(shape, Palette.Get("gray"), default, sc, NearestPlacement(x, y, size), new Vec2(x, y), r,
            rng.Uniform(-15, 15), false, default);
        double scale = size / 64.0;
        var sketch = new SketchSpec(
            Paper: rng.Uniform(0.86, 0.97) * 255, Ink: rng.Uniform(20, 90),
            StrokeWidth: Math.Max(0.9, rng.Uniform(1.1, 2.0) * scale), Wobble: rng.Uniform(0.3, 0.8) * scale,
            DoubleStroke: rng.Chance(0.4), Hatching: rng.Chance(0.35), HatchSpacing: rng.Uniform(3.5, 5) * scale,
            RuledLines: rng.Chance(0.3), RulePeriod: rng.Uniform(8, 11) * scale, RuleOffset: rng.Uniform(0, 8));
        var paper = new Rgb(sketch.Paper, sketch.Paper, sketch.Paper);
        var bg = new BackgroundSpec(BackgroundKind.Plain, paper, paper, 2, new Vec2(1, 0), default, 5);
        return new Scene(RenderStyle.Sketch, [obj], null, bg, sketch);
    }

    static Placement NearestPlacement(double x, double y, int size)
    {
        int gx = x < size / 3.0 ? 0 : x < 2 * size / 3.0 ? 1 : 2, gy = y < size / 3.0 ? 0 : y < 2 * size / 3.0 ? 1 : 2;
        return (Placement)(gy * 3 + gx);
    }
}
