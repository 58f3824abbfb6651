using Peft.Imaging;
using static TorchSharp.torch;

namespace Peft.Host.Experiments;

/// <summary>The frozen CLIP of an experiment: checkpoint (absolute path), compute dtype and evaluation preprocessing.</summary>
public sealed record BackboneSpec(string Model, string Dtype, string Preprocess)
{
    public static readonly IReadOnlyList<string> Dtypes = ["fp32", "bf16"];
    public static readonly IReadOnlyList<string> Preprocessings = ["clip", "coop"];

    public ScalarType ComputeType => TypeOf(Dtype);

    /// <summary>
    /// Compute dtype of the towers encoder-tier methods train and are evaluated in (null: <see cref="Dtype"/>). "bf16"
    /// with dtype "fp32" is mixed precision for them alone: a bf16 copy of the towers, their trainable deltas in fp32,
    /// while the feature-level methods keep fp32 features.
    /// </summary>
    public string? EncoderDtype { get; init; }

    public ScalarType EncoderComputeType => TypeOf(EncoderDtype ?? Dtype);

    static ScalarType TypeOf(string dtype) => dtype == "bf16" ? ScalarType.BFloat16 : ScalarType.Float32;
    public ClipResizeMode ResizeMode => Preprocess == "coop" ? ClipResizeMode.Squash : ClipResizeMode.ResizeShortSideAndCenterCrop;
}
