using Peft.Clip.Model;
using static TorchSharp.torch;

namespace Peft.Clip.Loading;

/// <summary>How to load a CLIP checkpoint.</summary>
public sealed record ClipLoadOptions
{
    /// <summary>Float32 (default, also for fp16 checkpoints, as clip.load on CPU) or BFloat16.</summary>
    public ScalarType ComputeType { get; init; } = ScalarType.Float32;
    /// <summary>Keys the model does not have are an error unless this is set (then they are only reported).</summary>
    public bool AllowUnexpectedKeys { get; init; }
    /// <summary>
    /// MLP activation for checkpoints that do not say (state dicts): OpenAI weights use QuickGELU; some
    /// open_clip models (e.g. trained with <c>quick_gelu: false</c>) need exact GELU.
    /// </summary>
    public ClipActivation? Activation { get; init; }
}
