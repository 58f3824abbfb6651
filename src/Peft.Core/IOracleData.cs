using static TorchSharp.torch;

namespace Peft.Core;

/// <summary>
/// Data that a strict few-shot protocol withholds, handed to a method only when the experiment opts into the
/// <c>as-published</c> protocol (<see cref="AdaptationContext.Oracle"/> is null otherwise). It exists to reproduce
/// the official selection rules — Tip-Adapter's α/β search on the full validation split (the test set for ImageNet)
/// and Tip-Adapter-F's best-test epoch — and every cell that reads it is tagged and reported as an oracle result.
/// Features are as <see cref="ITaskFeatures"/> gives them (float32, not normalised).
/// </summary>
public interface IOracleData
{
    /// <summary>The dataset's whole validation split [M, D] (evaluation transform), not the few-shot one.</summary>
    Tensor FullValFeatures();
    Tensor FullValLabels { get; }

    /// <summary>The test split [T, D] the host evaluates on.</summary>
    Tensor TestFeatures();
    Tensor TestLabels { get; }
}
