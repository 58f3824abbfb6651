using System.Globalization;

namespace Peft.Host.Experiments;

/// <summary>
/// <c>peft plan</c>'s projection: what the cells not done yet will take on this machine, per method, from the costs of
/// cells it ran before (<see cref="CostProjection"/>), and how sharding would split it.
/// </summary>
public static class ProjectedTime
{
    public static void Write(TextWriter output, ExperimentSpec spec, IReadOnlyList<ExperimentCell> cells, CellCostLog costs, int threads, Shard shard)
    {
        var projection = new CostProjection(costs.Read(), CellCostLog.BackboneKey(spec.Backbone), threads);
        var rows = projection.Of(spec, cells);
        output.WriteLine();
        output.WriteLine($"projected time on this machine ({threads} threads; backbone {CellCostLog.BackboneKey(spec.Backbone)}; " +
                         $"from {projection.Cells} cells it ran before, {costs.Path}):");
        int wMethod = Math.Max(6, rows.Max(r => r.Method.Length));
        output.WriteLine($"  {"method".PadRight(wMethod)}  {"cells",5}  {"per cell",9}  {"total",9}  basis");
        foreach (var r in rows)
        {
            int known = r.Cells - r.Unknown;
            string per = known == 0 ? "?" : Duration(r.Seconds / known);
            string total = known == 0 ? "?" : Duration(r.Seconds) + (r.Unknown > 0 ? "+" : "");
            output.WriteLine($"  {r.Method.PadRight(wMethod)}  {r.Cells,5}  {per,9}  {total,9}  {r.Basis}");
        }
        double seconds = rows.Sum(r => r.Seconds);
        int unknown = rows.Sum(r => r.Unknown);
        output.WriteLine($"  total: {Duration(seconds)} for {cells.Count - unknown} cells" +
                         (unknown > 0 ? $"; {unknown} cells of methods that never ran here with this backbone are not counted (run one cell of each first)" : "") +
                         "; splits and features not counted (encoding a large dataset's images once can take hours)");
        if (shard.IsAll && seconds > 3600)
            foreach (int n in new[] { 4, 16, 64 })
                output.WriteLine($"  with {n} shards (--shard i/{n}, Slurm arrays: README, \"Scaling out\"): about {Duration(seconds / n)} each");
    }

    /// <summary>"0.4 s", "12 s", "9 m 14 s", "2 h 05 m", "3 d 4 h".</summary>
    public static string Duration(double seconds)
    {
        var t = TimeSpan.FromSeconds(seconds);
        return seconds switch
        {
            < 10 => seconds.ToString("0.0", CultureInfo.InvariantCulture) + " s",
            < 60 => seconds.ToString("0", CultureInfo.InvariantCulture) + " s",
            < 3600 => $"{(int)t.TotalMinutes} m {t.Seconds:00} s",
            < 86400 => $"{(int)t.TotalHours} h {t.Minutes:00} m",
            _ => $"{(int)t.TotalDays} d {t.Hours} h",
        };
    }
}
