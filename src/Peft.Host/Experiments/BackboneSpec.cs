using Peft.Clip.Imaging;
using static TorchSharp.torch;

namespace Peft.Host.Experiments;

/// <summary>The frozen CLIP of an experiment: checkpoint (absolute path), compute dtype and evaluation preprocessing.</summary>
public sealed record BackboneSpec(string Model, string Dtype, string Preprocess)
{
    public static readonly IReadOnlyList<string> Dtypes = ["fp32", "bf16"];
    public static readonly IReadOnlyList<string> Preprocessings = ["clip", "coop"];

    public ScalarType ComputeType => Dtype == "bf16" ? ScalarType.BFloat16 : ScalarType.Float32;
    public ClipResizeMode ResizeMode => Preprocess == "coop" ? ClipResizeMode.Squash : ClipResizeMode.ResizeShortSideAndCenterCrop;
}
