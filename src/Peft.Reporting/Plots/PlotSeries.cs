using SkiaSharp;

namespace Peft.Reporting.Plots;

/// <summary>One method's points, in shots order (missing ones included), and its colour.</summary>
sealed record PlotSeries(string Method, SKColor Color, IReadOnlyList<SeedSummary> Points)
{
    /// <summary>Same mean at every shots value, with at least two values: drawn as a horizontal line (zero-shot CLIP).</summary>
    public bool IsFlat { get; } = Points.Count(p => !p.IsMissing) >= 2 && Points.Count(p => p.IsMissing) == 0
        && Points.Max(p => p.Mean) - Points.Min(p => p.Mean) < 1e-9;

    /// <summary>Maximal runs of consecutive present points, with their indices.</summary>
    public IEnumerable<IReadOnlyList<(int Index, SeedSummary Point)>> Runs()
    {
        var run = new List<(int, SeedSummary)>();
        for (int i = 0; i < Points.Count; i++)
        {
            if (!Points[i].IsMissing) { run.Add((i, Points[i])); continue; }
            if (run.Count > 0) { yield return run; run = []; }
        }
        if (run.Count > 0) yield return run;
    }
}
