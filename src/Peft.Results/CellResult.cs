namespace Peft.Results;

/// <summary>
/// The outcome of one cell (dataset × shots × seed × method) as reports read it, whether from the runner's own
/// results folder or from the child runs of an <c>mlruns</c> folder. Accuracies are percentages (0–100).
/// <see cref="Options"/> are the options the method ran with (after hyperparameter selection), as strings.
/// </summary>
public sealed record CellResult(
    string Dataset,
    int Shots,
    int Seed,
    string Method,
    double TestTop1,
    double TestMeanPerClass,
    double? ValTop1,
    double FitSeconds,
    long TrainableParameters,
    double PeakMemoryMb,
    IReadOnlyDictionary<string, string> Options)
{
    /// <summary>
    /// The method read test or full-validation data to select (protocol as-published, tag <c>peft.oracle</c>): reports
    /// mark the cell's method with † (<see cref="ExperimentProtocol.OracleMark"/>).
    /// </summary>
    public bool Oracle { get; init; }

    /// <summary>libtorch threads the cell computed with (null in results recorded before this was).</summary>
    public int? Threads { get; init; }

    /// <summary>The machine's 1-minute load average when the cell ended (Linux; a busy machine makes times incomparable).</summary>
    public double? LoadAverage { get; init; }

    /// <summary>
    /// Peak resident memory during the cell minus the resident memory at its start, MiB: what the method (its fit and
    /// evaluation) added on top of the process. Null where the peak cannot be reset per cell; <see cref="PeakMemoryMb"/>
    /// is the whole process's peak.
    /// </summary>
    public double? MemoryIncreaseMb { get; init; }

    /// <summary>
    /// Test accuracy (%) on each distribution-shift target of the cell's dataset (the experiment's <c>targets</c>), by
    /// target name; null when the dataset has none.
    /// </summary>
    public IReadOnlyDictionary<string, ShiftAccuracy>? Shift { get; init; }

    /// <summary>The shift metrics as logged: <c>shift/&lt;target&gt;/test_top1</c> and <c>…/test_mean_per_class</c>.</summary>
    public IEnumerable<(string Name, double Value)> ShiftMetrics()
    {
        foreach (var (target, a) in Shift ?? new Dictionary<string, ShiftAccuracy>())
        {
            yield return (TrackingNames.ShiftMetric(target, TrackingNames.TestTop1), a.TestTop1);
            yield return (TrackingNames.ShiftMetric(target, TrackingNames.TestMeanPerClass), a.TestMeanPerClass);
        }
    }

    /// <summary>This result with <see cref="Shift"/> read back from a run's metrics (what <see cref="ShiftMetrics"/> logged).</summary>
    public CellResult WithShiftFrom(IEnumerable<KeyValuePair<string, double>> metrics)
    {
        var top1 = new Dictionary<string, double>(StringComparer.Ordinal);
        var mean = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (key, value) in metrics)
            if (TrackingNames.ParseShiftMetric(key) is { } parsed)
                (parsed.Metric == TrackingNames.TestTop1 ? top1 : mean)[parsed.Target] = value;
        if (top1.Count == 0) return this;
        return this with
        {
            Shift = top1.ToDictionary(t => t.Key, t => new ShiftAccuracy(t.Value, mean.GetValueOrDefault(t.Key, double.NaN)), StringComparer.Ordinal),
        };
    }

    /// <summary>
    /// Base-to-new cells only (experiment <c>classes: base-to-new</c>; their <see cref="TestTop1"/> is on the base classes):
    /// accuracy on the new classes, with null values where the method cannot classify unseen classes; null for other cells.
    /// </summary>
    public UnseenClassAccuracy? New { get; init; }

    /// <summary>Test accuracy on each cross-dataset transfer target (the experiment's <c>transfer</c>), by name; null when there are none.</summary>
    public IReadOnlyDictionary<string, UnseenClassAccuracy>? Transfer { get; init; }

    /// <summary>
    /// The metrics of <see cref="New"/> and <see cref="Transfer"/> as logged (<c>new/test_top1</c>, <c>transfer/&lt;t&gt;/test_top1</c>, …),
    /// applicable ones only; what was not applicable goes to the tag <see cref="ExperimentClasses.NotApplicableTag"/> (<see cref="NotApplicable"/>).
    /// </summary>
    public IEnumerable<(string Name, double Value)> UnseenClassMetrics()
    {
        if (New is { TestTop1: double nt, TestMeanPerClass: double nm })
        {
            yield return (TrackingNames.NewClassesMetricPrefix + TrackingNames.TestTop1, nt);
            yield return (TrackingNames.NewClassesMetricPrefix + TrackingNames.TestMeanPerClass, nm);
        }
        foreach (var (target, a) in (Transfer ?? new Dictionary<string, UnseenClassAccuracy>()).OrderBy(t => t.Key, StringComparer.Ordinal))
            if (a is { TestTop1: double t, TestMeanPerClass: double m })
            {
                yield return (TrackingNames.TransferMetric(target, TrackingNames.TestTop1), t);
                yield return (TrackingNames.TransferMetric(target, TrackingNames.TestMeanPerClass), m);
            }
    }

    /// <summary>What the method was not applicable on: "new" and "transfer/&lt;target&gt;" (empty when everything applied).</summary>
    public IReadOnlyList<string> NotApplicable() =>
    [
        .. New is { Applicable: false } ? ["new"] : Array.Empty<string>(),
        .. (Transfer ?? new Dictionary<string, UnseenClassAccuracy>()).Where(t => !t.Value.Applicable).Select(t => "transfer/" + t.Key).Order(StringComparer.Ordinal),
    ];

    /// <summary>
    /// This result with <see cref="New"/> and <see cref="Transfer"/> read back from a run: its metrics, whether it is a
    /// base-to-new cell (param <see cref="ExperimentClasses.Param"/>) and its not-applicable tag.
    /// </summary>
    public CellResult WithUnseenClassesFrom(IEnumerable<KeyValuePair<string, double>> metrics, bool baseToNew, string? notApplicable)
    {
        var na = (notApplicable ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
        double? newTop1 = null, newMean = null;
        var top1 = new Dictionary<string, double>(StringComparer.Ordinal);
        var mean = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (key, value) in metrics)
        {
            if (key == TrackingNames.NewClassesMetricPrefix + TrackingNames.TestTop1) newTop1 = value;
            else if (key == TrackingNames.NewClassesMetricPrefix + TrackingNames.TestMeanPerClass) newMean = value;
            else if (TrackingNames.ParseTransferMetric(key) is { } parsed)
                (parsed.Metric == TrackingNames.TestTop1 ? top1 : mean)[parsed.Target] = value;
        }
        var transfer = top1.ToDictionary(t => t.Key, t => new UnseenClassAccuracy(t.Value, mean.GetValueOrDefault(t.Key, double.NaN)), StringComparer.Ordinal);
        foreach (var entry in na.Where(e => e.StartsWith("transfer/", StringComparison.Ordinal))) transfer[entry["transfer/".Length..]] = UnseenClassAccuracy.NotApplicable;
        return this with
        {
            New = baseToNew ? (newTop1 is double t ? new UnseenClassAccuracy(t, newMean ?? double.NaN) : UnseenClassAccuracy.NotApplicable) : null,
            Transfer = transfer.Count > 0 ? transfer : null,
        };
    }

    /// <summary>The optional cost figures from a run's metrics (<paramref name="metric"/> returns null when absent).</summary>
    public CellResult WithRecordedCost(Func<string, double?> metric) => this with
    {
        Threads = metric(TrackingNames.Threads) is double t ? (int)t : null,
        LoadAverage = metric(TrackingNames.LoadAverage),
        MemoryIncreaseMb = metric(TrackingNames.MemoryIncreaseMb),
    };

    /// <summary>The optional cost figures that are set, as (metric name, value): what <see cref="WithRecordedCost"/> reads back.</summary>
    public IEnumerable<(string Name, double Value)> RecordedCostMetrics()
    {
        if (Threads is int t) yield return (TrackingNames.Threads, t);
        if (LoadAverage is double l) yield return (TrackingNames.LoadAverage, l);
        if (MemoryIncreaseMb is double m) yield return (TrackingNames.MemoryIncreaseMb, m);
    }

    /// <summary>Key that identifies the cell within an experiment: <c>dataset/shots/seed/method</c>.</summary>
    public string CellKey => TrackingNames.CellKey(Dataset, Shots, Seed, Method);
}

/// <summary>
/// A cell's accuracy (%) on classes it was not trained on (the new half under base-to-new, a transfer target's classes);
/// both null when the method cannot classify unseen classes (reports show "n/a", never 0).
/// </summary>
public sealed record UnseenClassAccuracy(double? TestTop1, double? TestMeanPerClass)
{
    public static readonly UnseenClassAccuracy NotApplicable = new(null, null);
    public bool Applicable => TestTop1 is not null;
}

/// <summary>A cell's accuracy (%) on one distribution-shift target.</summary>
public sealed record ShiftAccuracy(double TestTop1, double TestMeanPerClass);
