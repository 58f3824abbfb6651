using static TorchSharp.torch;

namespace Peft.Core.Optimization;

/// <summary>
/// A method's <c>precision</c> option: <c>fp32</c> (the default) or <c>bf16</c>, mixed precision as under PyTorch's
/// autocast: the trainable tensors (master weights), the optimiser state and the loss stay fp32; the matrix products of
/// the forward and backward passes run on bf16 copies (the cast is part of the graph, so gradients reach the fp32
/// weights in fp32). The returned classifier holds the fp32 weights and is evaluated in fp32.
/// </summary>
public static class TrainingPrecision
{
    public static readonly string[] Names = ["fp32", "bf16"];

    /// <summary>The compute dtype of <paramref name="precision"/>.</summary>
    public static ScalarType ComputeType(string precision) => precision switch
    {
        "fp32" => ScalarType.Float32,
        "bf16" => ScalarType.BFloat16,
        _ => throw new ArgumentException(Problem(precision)),
    };

    /// <summary>The option's validation message, or null when valid.</summary>
    public static string? Problem(string precision) =>
        Names.Contains(precision) ? null : $"precision must be one of {string.Join(", ", Names)}, got '{precision}'";
}
