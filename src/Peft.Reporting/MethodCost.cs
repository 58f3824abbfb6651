namespace Peft.Reporting;

/// <summary>
/// What a method costs at one shots value, averaged over its cells there (datasets × seeds): fit time, trainable
/// parameters (which may vary with the number of classes, hence the range), the memory the method added during its
/// cells (NaN when no cell recorded it) and the process's peak, and the threads and machine load the times were taken with.
/// </summary>
public sealed record MethodCost(
    string Method,
    int Shots,
    int Cells,
    double MeanFitSeconds,
    double MeanTrainableParameters,
    long MinTrainableParameters,
    long MaxTrainableParameters,
    double MeanPeakMemoryMb,
    double MeanMemoryIncreaseMb = double.NaN,
    int? MinThreads = null,
    int? MaxThreads = null,
    double MeanLoadAverage = double.NaN);
