using System.Globalization;

namespace Peft.Reporting.Tables;

/// <summary>Number formats shared by all writers (invariant culture: a report reads the same on every machine).</summary>
static class ValueFormat
{
    public const string Missing = "—";
    static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>"71.23 ± 0.45"; the mean alone for a single seed; "—" when missing.</summary>
    public static string MeanStd(SeedSummary s, bool withStd = true)
    {
        if (s.IsMissing) return Missing;
        string mean = s.Mean.ToString("F2", Invariant);
        return withStd && double.IsFinite(s.StdDev) ? $"{mean} ± {s.StdDev.ToString("F2", Invariant)}" : mean;
    }

    public static string SignedPoints(double value) =>
        double.IsNaN(value) ? Missing : value.ToString("+0.00;−0.00;0.00", Invariant);

    /// <summary>p-values: 4 significant digits, scientific below 1e-4.</summary>
    public static string PValue(double p) =>
        double.IsNaN(p) ? "n/a" : p >= 1e-4 ? p.ToString("0.0000", Invariant) : p.ToString("0.00e+0", Invariant);

    public static string Number(double value, string format) => double.IsNaN(value) ? Missing : value.ToString(format, Invariant);

    public static string Integer(long value) => value.ToString("N0", Invariant);
}
