namespace Peft.Data.Synthetic;

/// <summary>A point in pixel units (x right, y down; pixel (i, j) covers [i, i+1) × [j, j+1)).</summary>
public readonly record struct Vec2(double X, double Y)
{
    public static Vec2 operator +(Vec2 a, Vec2 b) => new(a.X + b.X, a.Y + b.Y);
    public static Vec2 operator -(Vec2 a, Vec2 b) => new(a.X - b.X, a.Y - b.Y);
    public static Vec2 operator *(Vec2 a, double s) => new(a.X * s, a.Y * s);
    public double Length => Math.Sqrt(X * X + Y * Y);
}

/// <summary>
/// Antialiased coverage by supersampling: a grid of <see cref="Sub"/>×<see cref="Sub"/> samples per pixel, polygons
/// filled by a scanline over the sample rows (non-zero or even-odd rule). Plain double arithmetic and integer
/// counting, so the coverage of a polygon is the same bit for bit on every machine — unlike a native rasteriser whose
/// blitters are chosen per CPU. Masks combine by union (several fills) and intersection (clipping).
/// </summary>
sealed class CoverageMask
{
    public const int Sub = 4;
    readonly int _size, _n;
    readonly bool[] _samples;
    readonly List<(double X, int Winding)> _crossings = new();
    int _rowMin = int.MaxValue, _rowMax = -1; // sample rows that may hold set samples

    public CoverageMask(int size)
    {
        _size = size;
        _n = size * Sub;
        _samples = new bool[_n * _n];
    }

    public int Size => _size;

    public void Clear()
    {
        if (_rowMax >= _rowMin) Array.Clear(_samples, _rowMin * _n, (_rowMax - _rowMin + 1) * _n);
        _rowMin = int.MaxValue;
        _rowMax = -1;
    }

    /// <summary>Adds (unions) the inside of the contours to the mask.</summary>
    public void Fill(IReadOnlyList<Vec2[]> contours, bool evenOdd = false)
    {
        double minY = double.MaxValue, maxY = double.MinValue;
        foreach (var c in contours)
            foreach (var p in c) { minY = Math.Min(minY, p.Y); maxY = Math.Max(maxY, p.Y); }
        int row0 = Math.Max(0, (int)Math.Floor(minY * Sub - 0.5)), row1 = Math.Min(_n - 1, (int)Math.Ceiling(maxY * Sub - 0.5));
        for (int row = row0; row <= row1; row++)
        {
            double y = (row + 0.5) / Sub;
            _crossings.Clear();
            foreach (var c in contours)
            {
                for (int i = 0; i < c.Length; i++)
                {
                    Vec2 a = c[i], b = c[(i + 1) % c.Length];
                    if (a.Y == b.Y) continue;
                    int winding = a.Y < b.Y ? 1 : -1;
                    if (winding < 0) (a, b) = (b, a);
                    if (y < a.Y || y >= b.Y) continue; // half-open: shared vertices count once
                    double x = a.X + (y - a.Y) * (b.X - a.X) / (b.Y - a.Y);
                    _crossings.Add((x, winding));
                }
            }
            if (_crossings.Count < 2) continue;
            _crossings.Sort((p, q) => p.X != q.X ? p.X.CompareTo(q.X) : p.Winding.CompareTo(q.Winding));
            int w = 0;
            for (int k = 0; k < _crossings.Count - 1; k++)
            {
                w += _crossings[k].Winding;
                bool inside = evenOdd ? ((k + 1) & 1) == 1 : w != 0;
                if (!inside) continue;
                double xa = _crossings[k].X * Sub - 0.5, xb = _crossings[k + 1].X * Sub - 0.5;
                int s0 = Math.Max(0, (int)Math.Ceiling(xa)), s1 = Math.Min(_n, (int)Math.Ceiling(xb));
                if (s1 <= s0) continue;
                Array.Fill(_samples, true, row * _n + s0, s1 - s0);
                if (row < _rowMin) _rowMin = row;
                if (row > _rowMax) _rowMax = row;
            }
        }
    }

    /// <summary>Adds a stroked polyline: a quad per segment and a small disc per vertex (round joins and caps).</summary>
    public void Stroke(IReadOnlyList<Vec2> points, double width, bool closed)
    {
        double h = width / 2;
        int count = points.Count, segments = closed ? count : count - 1;
        for (int i = 0; i < segments; i++)
        {
            Vec2 a = points[i], b = points[(i + 1) % count], d = b - a;
            double len = d.Length;
            if (len < 1e-9) continue;
            var nrm = new Vec2(-d.Y / len * h, d.X / len * h);
            Fill([[a + nrm, b + nrm, b - nrm, a - nrm]]);
        }
        var disc = Geometry.RegularPolygon(12, h * 1.04, 0);
        foreach (var p in points)
        {
            var c = new Vec2[disc.Length];
            for (int k = 0; k < disc.Length; k++) c[k] = disc[k] + p;
            Fill([c]);
        }
    }

    /// <summary>Keeps only samples also set in <paramref name="clip"/>.</summary>
    public void IntersectWith(CoverageMask clip)
    {
        if (_rowMax < _rowMin) return;
        for (int i = _rowMin * _n; i < (_rowMax + 1) * _n; i++) _samples[i] &= clip._samples[i];
    }

    /// <summary>Per-pixel coverage in [0, 1] (multiples of 1/Sub²), row-major.</summary>
    public float[] Coverage()
    {
        var cov = new float[_size * _size];
        if (_rowMax < _rowMin) return cov;
        for (int py = _rowMin / Sub; py <= _rowMax / Sub; py++)
            for (int px = 0; px < _size; px++)
            {
                int count = 0;
                for (int sy = 0; sy < Sub; sy++)
                {
                    int rowStart = (py * Sub + sy) * _n + px * Sub;
                    for (int sx = 0; sx < Sub; sx++) if (_samples[rowStart + sx]) count++;
                }
                cov[py * _size + px] = count / (float)(Sub * Sub);
            }
        return cov;
    }
}
