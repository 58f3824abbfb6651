namespace Peft.Host.Experiments;

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

    /// <summary>Key that identifies the cell within an experiment: <c>dataset/shots/seed/method</c>.</summary>
    public string CellKey => TrackingNames.CellKey(Dataset, Shots, Seed, Method);
}
