namespace Peft.Host.Experiments;

/// <summary>
/// What cells will cost on this machine, from what cells cost before (<see cref="CellCostLog"/>), for one backbone.
/// A cell is estimated from the median of the same method on the same dataset at the same shots; else the nearest shots
/// of that dataset, scaled by shots (training cost grows with the number of training images); else other datasets at
/// the same shots; else other datasets scaled by shots; times the cell's grid points. Records made with the thread count
/// of this run are preferred. Rough by design: it says whether a grid takes minutes or days, and on what it rests.
/// </summary>
public sealed class CostProjection
{
    readonly List<CellCost> _history;

    public CostProjection(IEnumerable<CellCost> history, string backbone, int threads)
    {
        var sameBackbone = history.Where(c => c.Backbone == backbone).ToList();
        var sameThreads = sameBackbone.Where(c => c.Threads == threads).ToList();
        // Per method: the records at this thread count when there are any, else all of this backbone's.
        _history = sameBackbone.GroupBy(c => c.Method)
            .SelectMany(g => sameThreads.Any(c => c.Method == g.Key) ? sameThreads.Where(c => c.Method == g.Key) : g)
            .ToList();
        Cells = sameBackbone.Count;
    }

    /// <summary>How many recorded cells of this backbone the projection rests on.</summary>
    public int Cells { get; }

    public sealed record Estimate(double Seconds, string Basis);

    /// <summary>The estimated seconds of one cell, or null when the method never ran with this backbone here.</summary>
    public Estimate? For(string method, string dataset, int shots, int gridPoints)
    {
        var mine = _history.Where(c => c.Method == method).ToList();
        if (mine.Count == 0) return null;
        var sameDataset = mine.Where(c => c.Dataset == dataset).ToList();
        if (From(sameDataset, shots) is { } a) return new(a.Seconds * gridPoints, a.Scaled ? $"{dataset}, scaled from {a.From} shots" : $"{dataset} at {shots} shots");
        var b = From(mine, shots)!.Value;
        return new(b.Seconds * gridPoints, b.Scaled ? $"other datasets, scaled from {b.From} shots" : $"other datasets at {shots} shots");
    }

    /// <summary>The projected cost of one method's cells: <see cref="Unknown"/> of them have no estimate.</summary>
    public sealed record MethodProjection(string Method, int Cells, int Unknown, double Seconds, string Basis);

    /// <summary>Per method of <paramref name="spec"/> (in its order), the projected cost of <paramref name="cells"/>.</summary>
    public IReadOnlyList<MethodProjection> Of(ExperimentSpec spec, IEnumerable<ExperimentCell> cells)
    {
        var byMethod = cells.GroupBy(c => c.Method).ToDictionary(g => g.Key, g => g.ToList());
        var rows = new List<MethodProjection>();
        foreach (var m in spec.Methods)
        {
            if (!byMethod.TryGetValue(m.Name, out var mine)) continue;
            var estimates = mine.Select(c => For(m.Descriptor.Name, c.Dataset, c.Shots, m.PointsFor(c.Dataset).Count)).ToList();
            var known = estimates.OfType<Estimate>().ToList();
            string basis = known.Count == 0 ? "never ran here with this backbone"
                : known.GroupBy(e => e.Basis).OrderByDescending(g => g.Count()).First().Key + (known.Select(e => e.Basis).Distinct().Count() > 1 ? ", …" : "");
            rows.Add(new(m.Name, mine.Count, mine.Count - known.Count, known.Sum(e => e.Seconds), basis));
        }
        return rows;
    }

    static (double Seconds, bool Scaled, int From)? From(List<CellCost> costs, int shots)
    {
        if (costs.Count == 0) return null;
        var same = costs.Where(c => c.Shots == shots).ToList();
        if (same.Count > 0) return (Median(same.Select(c => c.SecondsPerPoint)), false, shots);
        int nearest = costs.Select(c => c.Shots).Distinct().MinBy(s => Math.Abs(Math.Log((double)s / shots)));
        return (Median(costs.Where(c => c.Shots == nearest).Select(c => c.SecondsPerPoint)) * shots / nearest, true, nearest);
    }

    static double Median(IEnumerable<double> values)
    {
        var v = values.Order().ToArray();
        return v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
    }
}
