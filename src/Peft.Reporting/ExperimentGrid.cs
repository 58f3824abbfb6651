using Peft.Results;

namespace Peft.Reporting;

/// <summary>
/// The cells of one experiment, validated and indexed by (method, dataset, shots, seed). Methods and datasets keep
/// the order of their first appearance in the input (the runner's order); shots and seeds are sorted. The method name
/// of an oracle cell (<see cref="CellResult.Oracle"/>) gets <see cref="ExperimentProtocol.OracleMark"/> appended, so every
/// table, plot and CSV row shows it and oracle results never pool with few-shot results of the same method.
/// </summary>
public sealed class ExperimentGrid
{
    readonly Dictionary<(string Method, string Dataset, int Shots, int Seed), CellResult> _cells;

    public IReadOnlyList<CellResult> Cells { get; }
    public IReadOnlyList<string> Methods { get; }
    public IReadOnlyList<string> Datasets { get; }
    public IReadOnlyList<int> Shots { get; }
    public IReadOnlyList<int> Seeds { get; }
    /// <summary>Whether some cell is an oracle result (its method name then carries <see cref="ExperimentProtocol.OracleMark"/>).</summary>
    public bool HasOracle => Cells.Any(c => c.Oracle);

    ExperimentGrid(IReadOnlyList<CellResult> cells, Dictionary<(string, string, int, int), CellResult> index)
    {
        Cells = cells;
        _cells = index;
        Methods = cells.Select(c => c.Method).Distinct(StringComparer.Ordinal).ToArray();
        Datasets = cells.Select(c => c.Dataset).Distinct(StringComparer.Ordinal).ToArray();
        Shots = cells.Select(c => c.Shots).Distinct().Order().ToArray();
        Seeds = cells.Select(c => c.Seed).Distinct().Order().ToArray();
    }

    /// <summary>Validates the cells: no nulls, names present, shots ≥ 1, accuracies finite in [0, 100], no cell twice.</summary>
    public static ExperimentGrid From(IReadOnlyList<CellResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        if (results.Count == 0)
            throw new ReportException("No cell results to report: the experiment has no finished cells (run it first, or check the results folder).");
        var index = new Dictionary<(string, string, int, int), CellResult>();
        var marked = new CellResult[results.Count];
        for (int i = 0; i < results.Count; i++)
        {
            var cell = results[i] ?? throw new ReportException($"Cell result {i} is null.");
            if (cell.Oracle && !cell.Method.EndsWith(ExperimentProtocol.OracleMark, StringComparison.Ordinal))
                cell = cell with { Method = cell.Method + ExperimentProtocol.OracleMark };
            marked[i] = cell;
            if (string.IsNullOrWhiteSpace(cell.Method) || string.IsNullOrWhiteSpace(cell.Dataset))
                throw new ReportException($"Cell result {i} ({cell.CellKey}) has an empty method or dataset name.");
            if (cell.Shots < 1)
                throw new ReportException($"Cell {cell.CellKey} has {cell.Shots} shots; shots must be at least 1.");
            CheckAccuracy(cell, cell.TestTop1, "test top-1");
            CheckAccuracy(cell, cell.TestMeanPerClass, "test mean-per-class");
            if (!index.TryAdd((cell.Method, cell.Dataset, cell.Shots, cell.Seed), cell))
                throw new ReportException($"Cell {cell.CellKey} appears twice in the results; a report needs one result per cell.");
        }
        return new ExperimentGrid(marked, index);
    }

    static void CheckAccuracy(CellResult cell, double value, string name)
    {
        if (!double.IsFinite(value) || value < 0 || value > 100)
            throw new ReportException($"Cell {cell.CellKey} has {name} accuracy {value}; accuracies must be percentages in [0, 100].");
    }

    /// <summary>
    /// Whether mean-per-class accuracy differs from top-1 in some cell (of <paramref name="dataset"/>, or of any
    /// dataset): with balanced test sets they are equal and the report leaves the mean-per-class tables out.
    /// </summary>
    public bool MeanPerClassDiffers(string? dataset = null) =>
        Cells.Any(c => (dataset is null || c.Dataset == dataset) && Math.Abs(c.TestMeanPerClass - c.TestTop1) > 1e-9);

    public CellResult? Find(string method, string dataset, int shots, int seed) =>
        _cells.GetValueOrDefault((method, dataset, shots, seed));
}
