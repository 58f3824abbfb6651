namespace Peft.Host.Experiments;

/// <summary>
/// The cells of an experiment in a fixed order — datasets (file order) × shots × seeds (file order) × methods (name
/// order) — and their assignment to shards. Whole (dataset, shots, seed) groups go round-robin to shards, so each
/// shard reads a split's features once; with fewer groups than shards, cells are cut into contiguous, equal ranges
/// instead (a group may then span two shards). Both are deterministic: every shard computes the same assignment.
/// </summary>
public sealed class ExperimentPlan
{
    public IReadOnlyList<ExperimentCell> Cells { get; }

    public ExperimentPlan(ExperimentSpec spec)
    {
        var cells = new List<ExperimentCell>();
        foreach (var d in spec.Datasets)
            foreach (var shots in spec.Shots)
                foreach (var seed in spec.Seeds)
                    foreach (var m in spec.Methods)
                        cells.Add(new ExperimentCell(cells.Count, d.Name, shots, seed, m.Name));
        Cells = cells;
    }

    /// <summary>The cells shard <paramref name="shard"/> runs, in plan order.</summary>
    public IReadOnlyList<ExperimentCell> CellsOf(Shard shard)
    {
        if (shard.IsAll) return Cells;
        var groups = Cells.GroupBy(c => c.Group).ToList();
        if (groups.Count >= shard.Count)
            return groups.Where((_, g) => g % shard.Count == shard.Index).SelectMany(g => g).ToList();
        long total = Cells.Count;
        int from = (int)(total * shard.Index / shard.Count), to = (int)(total * (shard.Index + 1) / shard.Count);
        return Cells.Skip(from).Take(to - from).ToList();
    }
}
