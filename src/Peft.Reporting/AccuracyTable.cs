namespace Peft.Reporting;

/// <summary>
/// Accuracy of every method × dataset × shots (mean ± std over seeds) and its average over datasets per
/// method × shots. The average is the mean over datasets of the per-dataset means; its std is the sample std over
/// seeds of the dataset-averaged accuracy, computed per seed from the seeds present on every dataset. A method
/// missing on any dataset at some shots has no average there (marked, never averaged over fewer datasets).
/// </summary>
public sealed class AccuracyTable
{
    readonly Dictionary<(string Method, string Dataset, int Shots), SeedSummary> _perDataset;
    readonly Dictionary<(string Method, int Shots), SeedSummary> _average;

    public AccuracyMetric Metric { get; }

    AccuracyTable(AccuracyMetric metric, Dictionary<(string, string, int), SeedSummary> perDataset,
        Dictionary<(string, int), SeedSummary> average)
    {
        Metric = metric;
        _perDataset = perDataset;
        _average = average;
    }

    public SeedSummary PerDataset(string method, string dataset, int shots) =>
        _perDataset.TryGetValue((method, dataset, shots), out var s) ? s : throw Unknown(method, $"{dataset}, {shots} shots");

    public SeedSummary Average(string method, int shots) =>
        _average.TryGetValue((method, shots), out var s) ? s : throw Unknown(method, $"{shots} shots");

    static KeyNotFoundException Unknown(string method, string where) => new($"The accuracy table has no entry for method '{method}' at {where}.");

    public static AccuracyTable Aggregate(ExperimentGrid grid, AccuracyMetric metric)
    {
        ArgumentNullException.ThrowIfNull(grid);
        var perDataset = new Dictionary<(string, string, int), SeedSummary>();
        var average = new Dictionary<(string, int), SeedSummary>();
        foreach (var method in grid.Methods)
        foreach (int shots in grid.Shots)
        {
            foreach (var dataset in grid.Datasets)
                perDataset[(method, dataset, shots)] = OverSeeds(grid, metric, method, dataset, shots);
            average[(method, shots)] = OverDatasets(grid, metric, method, shots, perDataset);
        }
        return new AccuracyTable(metric, perDataset, average);
    }

    static SeedSummary OverSeeds(ExperimentGrid grid, AccuracyMetric metric, string method, string dataset, int shots)
    {
        var present = new List<double>();
        var missingSeeds = new List<int>();
        foreach (int seed in grid.Seeds)
        {
            var cell = grid.Find(method, dataset, shots, seed);
            if (cell is null) missingSeeds.Add(seed);
            else present.Add(metric.Of(cell));
        }
        if (present.Count == 0) return SeedSummary.Missing("not run");
        string? note = missingSeeds.Count == 0 ? null
            : $"{present.Count} of {grid.Seeds.Count} seeds (seed {string.Join(", ", missingSeeds)} missing)";
        return SeedSummary.Of(present, note);
    }

    static SeedSummary OverDatasets(ExperimentGrid grid, AccuracyMetric metric, string method, int shots,
        Dictionary<(string, string, int), SeedSummary> perDataset)
    {
        var missing = grid.Datasets.Where(d => perDataset[(method, d, shots)].IsMissing).ToArray();
        if (missing.Length == grid.Datasets.Count) return SeedSummary.Missing("not run");
        if (missing.Length > 0)
            return SeedSummary.Missing($"no result on {string.Join(", ", missing)}: not averaged over fewer datasets");

        double mean = grid.Datasets.Average(d => perDataset[(method, d, shots)].Mean);
        var perSeed = new List<double>();
        foreach (int seed in grid.Seeds)
        {
            var cells = grid.Datasets.Select(d => grid.Find(method, d, shots, seed)).ToArray();
            if (cells.All(c => c is not null)) perSeed.Add(cells.Average(c => metric.Of(c!)));
        }
        var spread = SeedSummary.Of(perSeed);
        string? note = perSeed.Count == grid.Seeds.Count ? null
            : $"std over the {perSeed.Count} of {grid.Seeds.Count} seeds complete on every dataset";
        return new SeedSummary(mean, perSeed.Count == 0 ? double.NaN : spread.StdDev, perSeed.Count, note);
    }
}
