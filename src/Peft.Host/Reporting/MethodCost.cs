namespace Peft.Host.Reporting;

/// <summary>
/// What a method costs at one shots value, averaged over its cells there (datasets × seeds): fit time, trainable
/// parameters (which may vary with the number of classes, hence the range) and peak memory.
/// </summary>
public sealed record MethodCost(
    string Method,
    int Shots,
    int Cells,
    double MeanFitSeconds,
    double MeanTrainableParameters,
    long MinTrainableParameters,
    long MaxTrainableParameters,
    double MeanPeakMemoryMb);
