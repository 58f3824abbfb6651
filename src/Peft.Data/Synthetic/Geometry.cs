namespace Peft.Data.Synthetic;

/// <summary>The shapes of the world. Every name is one plain English word that CLIP's vocabulary spells whole.</summary>
public enum Shape { Circle, Square, Triangle, Star, Cross, Ring, Heart, Pentagon, Diamond, Moon }

/// <summary>Shape outlines as polygons in a unit frame (about radius 1 around the origin, y down).</summary>
static class Geometry
{
    public static string Name(Shape shape) => shape.ToString().ToLowerInvariant();

    public static Vec2[] RegularPolygon(int n, double radius, double startDegrees)
    {
        var p = new Vec2[n];
        for (int i = 0; i < n; i++)
        {
            double a = DetMath.Degrees(startDegrees + 360.0 * i / n);
            p[i] = new Vec2(radius * DetMath.Cos(a), radius * DetMath.Sin(a));
        }
        return p;
    }

    static readonly Dictionary<Shape, Vec2[][]> Unit = Build();

    /// <summary>Contours of the shape in its unit frame (ring: outer and inner, to be filled even-odd).</summary>
    public static Vec2[][] UnitContours(Shape shape) => Unit[shape];

    static Dictionary<Shape, Vec2[][]> Build()
    {
        var d = new Dictionary<Shape, Vec2[][]>
        {
            [Shape.Circle] = [RegularPolygon(64, 1.0, 0)],
            [Shape.Square] = [[new(-0.84, -0.84), new(0.84, -0.84), new(0.84, 0.84), new(-0.84, 0.84)]],
            // Equilateral, apex up, centroid at the origin.
            [Shape.Triangle] = [RegularPolygon(3, 1.15, -90)],
            [Shape.Pentagon] = [RegularPolygon(5, 1.05, -90)],
            [Shape.Diamond] = [[new(0, -1.12), new(0.66, 0), new(0, 1.12), new(-0.66, 0)]],
            [Shape.Ring] = [RegularPolygon(64, 1.0, 0), RegularPolygon(64, 0.56, 0)],
        };

        var star = new Vec2[10];
        for (int i = 0; i < 10; i++)
        {
            double a = DetMath.Degrees(-90 + 36.0 * i), r = i % 2 == 0 ? 1.12 : 0.46;
            star[i] = new Vec2(r * DetMath.Cos(a), r * DetMath.Sin(a) + 0.06);
        }
        d[Shape.Star] = [star];

        const double w = 0.31, l = 0.98;
        d[Shape.Cross] = [[new(-w, -l), new(w, -l), new(w, -w), new(l, -w), new(l, w), new(w, w),
                           new(w, l), new(-w, l), new(-w, w), new(-l, w), new(-l, -w), new(-w, -w)]];

        // The classic heart curve x = 16 sin³t, y = 13 cos t − 5 cos 2t − 2 cos 3t − cos 4t, scaled to about radius 1.
        var heart = new Vec2[72];
        for (int i = 0; i < heart.Length; i++)
        {
            double t = DetMath.TwoPi * i / heart.Length, s = DetMath.Sin(t);
            double x = 16 * s * s * s;
            double y = 13 * DetMath.Cos(t) - 5 * DetMath.Cos(2 * t) - 2 * DetMath.Cos(3 * t) - DetMath.Cos(4 * t);
            heart[i] = new Vec2(x / 16.5, -(y - 2.5) / 15.5);
        }
        d[Shape.Heart] = [heart];

        // Crescent: the unit disc minus a disc of radius 0.86 centred 0.52 to the right (opening right, horns up/down).
        const double bite = 0.52, br = 0.86;
        // Intersection of x² + y² = 1 and (x − bite)² + y² = br²: x = (1 − br² + bite²) / (2 bite).
        double xi = (1 - br * br + bite * bite) / (2 * bite), yi = Math.Sqrt(1 - xi * xi);
        double outerStart = Angle(xi, yi), innerStart = Angle(xi - bite, yi);
        var moon = new List<Vec2>();
        const int arc = 36;
        for (int i = 0; i <= arc; i++) // outer arc from the top horn, round the left, to the bottom horn
        {
            double a = outerStart + (DetMath.TwoPi - 2 * outerStart) * i / arc;
            moon.Add(new Vec2(DetMath.Cos(a), DetMath.Sin(a)));
        }
        for (int i = arc - 1; i >= 1; i--) // inner arc back from the bottom horn to the top horn
        {
            double a = innerStart + (DetMath.TwoPi - 2 * innerStart) * i / arc;
            moon.Add(new Vec2(bite + br * DetMath.Cos(a), br * DetMath.Sin(a)));
        }
        // Centre the crescent's bounding box horizontally so it sits where it is placed.
        double minX = moon.Min(p => p.X), maxX = moon.Max(p => p.X), shift = (minX + maxX) / 2;
        d[Shape.Moon] = [moon.Select(p => new Vec2((p.X - shift) * 1.05, p.Y * 1.05)).ToArray()];
        return d;
    }

    /// <summary>Angle in [0, π] of the point (x, y ≥ 0) on a circle, by bisection on <see cref="DetMath.Cos"/>.</summary>
    static double Angle(double x, double y)
    {
        double r = Math.Sqrt(x * x + y * y), c = x / r, lo = 0, hi = DetMath.Pi;
        for (int i = 0; i < 60; i++)
        {
            double mid = (lo + hi) / 2;
            if (DetMath.Cos(mid) > c) lo = mid; else hi = mid;
        }
        return (lo + hi) / 2;
    }

    /// <summary>The contours placed in the image: scaled by <paramref name="radius"/> pixels, rotated, translated.</summary>
    public static Vec2[][] Place(Shape shape, Vec2 centre, double radius, double rotationDegrees)
    {
        double a = DetMath.Degrees(rotationDegrees), c = DetMath.Cos(a), s = DetMath.Sin(a);
        return UnitContours(shape).Select(contour => contour.Select(p =>
            new Vec2(centre.X + radius * (c * p.X - s * p.Y), centre.Y + radius * (s * p.X + c * p.Y))).ToArray()).ToArray();
    }

    /// <summary>Splits each edge of a closed contour into pieces no longer than <paramref name="maxStep"/>.</summary>
    public static List<Vec2> Densify(Vec2[] contour, double maxStep)
    {
        var result = new List<Vec2>();
        for (int i = 0; i < contour.Length; i++)
        {
            Vec2 a = contour[i], b = contour[(i + 1) % contour.Length];
            int steps = Math.Max(1, (int)Math.Ceiling((b - a).Length / maxStep));
            for (int k = 0; k < steps; k++) result.Add(a + (b - a) * ((double)k / steps));
        }
        return result;
    }
}
