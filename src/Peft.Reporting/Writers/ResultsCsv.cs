using System.Globalization;
using System.Text;
using Peft.Results;

namespace Peft.Reporting.Writers;

/// <summary>
/// Renders <c>results.csv</c>: one row per cell in input order, RFC 4180 quoting, invariant culture, doubles rounded to
/// 9 decimals and written in shortest round-trip form (an accuracy of 0.314 × 100 is 31.4, not 31.400000000000006). Options are one column, <c>key=value</c> pairs sorted by key and joined with "; ".
/// Column names are the metric names the runner logs (<see cref="TrackingNames"/>); <c>oracle</c> is true for cells
/// selected on test or full-validation data (protocol as-published; their method name also carries †); <c>shift</c> is the
/// test top-1 on each distribution-shift target, <c>target=value</c> pairs joined with "; " (empty without targets);
/// <c>new_test_top1</c> is a base-to-new cell's test top-1 on the new classes (its <c>test_top1</c> is on the base
/// classes), <c>n/a</c> where the method cannot classify unseen classes, empty for other cells; <c>transfer</c> is the
/// test top-1 on each cross-dataset transfer target as <c>target=value</c> (or <c>target=n/a</c>).
/// </summary>
public static class ResultsCsv
{
    public static readonly IReadOnlyList<string> Columns =
    [
        TrackingNames.Dataset, TrackingNames.Shots, TrackingNames.Seed, TrackingNames.Method,
        TrackingNames.TestTop1, TrackingNames.TestMeanPerClass, TrackingNames.ValTop1,
        TrackingNames.FitSeconds, TrackingNames.TrainableParameters, TrackingNames.PeakMemoryMb, "options", "oracle", "shift",
        "new_test_top1", "transfer",
    ];

    public static string Render(IEnumerable<CellResult> cells)
    {
        ArgumentNullException.ThrowIfNull(cells);
        var csv = new StringBuilder();
        csv.AppendJoin(',', Columns).Append("\r\n");
        foreach (var c in cells)
        {
            string options = string.Join("; ", c.Options.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}"));
            string[] fields =
            [
                c.Dataset, Int(c.Shots), Int(c.Seed), c.Method,
                Real(c.TestTop1), Real(c.TestMeanPerClass), c.ValTop1 is double v ? Real(v) : "",
                Real(c.FitSeconds), c.TrainableParameters.ToString(CultureInfo.InvariantCulture), Real(c.PeakMemoryMb), options, c.Oracle ? "true" : "false",
                string.Join("; ", (c.Shift ?? new Dictionary<string, ShiftAccuracy>()).OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => $"{t.Key}={Real(t.Value.TestTop1)}")),
                c.New is { } n ? Unseen(n) : "",
                string.Join("; ", (c.Transfer ?? new Dictionary<string, UnseenClassAccuracy>()).OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => $"{t.Key}={Unseen(t.Value)}")),
            ];
            csv.AppendJoin(',', fields.Select(Quote)).Append("\r\n");
        }
        return csv.ToString();
    }

    static string Unseen(UnseenClassAccuracy a) => a.TestTop1 is double t ? Real(t) : "n/a";

    static string Int(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Nine decimals keep every real value (accuracies are k/N·100, times microseconds) and drop float noise.</summary>
    public static string Real(double value) =>
        (double.IsFinite(value) ? Math.Round(value, 9) : value).ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Quotes a field that holds a comma, quote or line break, doubling inner quotes.</summary>
    public static string Quote(string field) =>
        field.AsSpan().IndexOfAny(",\"\r\n") < 0 ? field : $"\"{field.Replace("\"", "\"\"")}\"";
}
