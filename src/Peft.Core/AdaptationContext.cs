using static TorchSharp.torch;

namespace Peft.Core;

/// <summary>Everything a method receives for one cell (dataset × shots × seed). Test data is not part of it.</summary>
public sealed class AdaptationContext
{
    public required FewShotTask Task { get; init; }
    public required ITaskFeatures Features { get; init; }
    /// <summary>The frozen text tower, including the token-embedding path for prompt learning.</summary>
    public required IFrozenTextEncoder TextEncoder { get; init; }
    public required ITextTokenizer Tokenizer { get; init; }
    /// <summary>
    /// The same frozen text tower computing in another dtype (a copy the host loads once), for methods whose option
    /// <c>precision: bf16</c> trains through the tower (CoOp); null where the host offers none.
    /// </summary>
    public Func<ScalarType, IFrozenTextEncoder>? TextEncoderIn { get; init; }

    /// <summary>
    /// The text tower to train through under a method's <c>precision</c> option (<see cref="Optimization.TrainingPrecision"/>):
    /// <see cref="TextEncoder"/> for fp32, else its copy in that dtype.
    /// </summary>
    public IFrozenTextEncoder TrainingTextEncoder(string precision, string method)
    {
        var type = Optimization.TrainingPrecision.ComputeType(precision);
        if (type == ScalarType.Float32) return TextEncoder;
        return TextEncoderIn?.Invoke(type) ?? throw new InvalidOperationException(
            $"{method}: precision '{precision}' trains through a {precision} copy of the text tower, which this host does not provide");
    }
    /// <summary>The cell's generator: every random choice of the method (initialisation, shuffling) draws from it.</summary>
    public required Generator Generator { get; init; }
    public IMetricSink Metrics { get; init; } = NullMetricSink.Instance;
    public CancellationToken Cancellation { get; init; }
    /// <summary>
    /// Full validation and test data, only under the experiment's <c>as-published</c> protocol; null otherwise (the
    /// default), so a method cannot select on test data unless the experiment opts in and its cells are marked.
    /// </summary>
    public IOracleData? Oracle { get; init; }
}
