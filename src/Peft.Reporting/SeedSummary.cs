namespace Peft.Reporting;

/// <summary>
/// One table entry: mean ± sample standard deviation (n − 1) over <see cref="Seeds"/> values; the deviation is NaN
/// with fewer than two. <see cref="Footnote"/> says why an entry is incomplete or missing (no value when
/// <see cref="Seeds"/> is 0: missing values are shown as missing, never filled in).
/// </summary>
public sealed record SeedSummary(double Mean, double StdDev, int Seeds, string? Footnote = null)
{
    public bool IsMissing => double.IsNaN(Mean);

    public static SeedSummary Missing(string reason) => new(double.NaN, double.NaN, 0, reason);

    public static SeedSummary Of(IReadOnlyList<double> values, string? footnote = null)
    {
        if (values.Count == 0) return Missing(footnote ?? "no result");
        double mean = values.Average();
        double std = values.Count < 2 ? double.NaN
            : Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
        return new SeedSummary(mean, std, values.Count, footnote);
    }
}
