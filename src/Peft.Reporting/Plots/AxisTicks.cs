namespace Peft.Reporting.Plots;

/// <summary>A value axis from <see cref="Min"/> to <see cref="Max"/> with ticks every <see cref="Step"/> (1, 2, 2.5 or 5 × 10^k).</summary>
public sealed record AxisTicks(double Min, double Max, double Step)
{
    /// <summary>Tick values from Min to Max.</summary>
    public IReadOnlyList<double> Values
    {
        get
        {
            int count = (int)Math.Round((Max - Min) / Step);
            return Enumerable.Range(0, count + 1).Select(i => Math.Round(Min + i * Step, 10)).ToArray();
        }
    }

    /// <summary>Decimals a tick label needs to show every tick exactly (2.5 → 1, 0.25 → 2, 20 → 0).</summary>
    public int Decimals
    {
        get
        {
            for (int d = 0; d < 10; d++)
                if (Values.All(v => Math.Abs(v - Math.Round(v, d)) < 1e-9 * Math.Max(1, Math.Abs(v)))) return d;
            return 10;
        }
    }

    /// <summary>A tick's label with <see cref="Decimals"/> decimals, invariant culture.</summary>
    public string Label(double value) => value.ToString("F" + Decimals, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>An axis covering [low, high] with about <paramref name="targetTicks"/> ticks; a range under <paramref name="minSpan"/> is widened around its centre.</summary>
    public static AxisTicks Covering(double low, double high, int targetTicks = 6, double minSpan = 2.0)
    {
        if (!double.IsFinite(low) || !double.IsFinite(high) || high < low)
            throw new ArgumentException($"Cannot make an axis over [{low}, {high}].");
        if (high - low < minSpan)
        {
            double centre = (low + high) / 2;
            (low, high) = (centre - minSpan / 2, centre + minSpan / 2);
        }
        double raw = (high - low) / targetTicks;
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double step = new[] { 1, 2, 2.5, 5, 10 }.Select(f => f * magnitude).First(s => s >= raw);
        return new AxisTicks(Math.Floor(low / step) * step, Math.Ceiling(high / step) * step, step);
    }
}
