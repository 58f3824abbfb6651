using TorchSharp;

namespace Peft.Clip.Model;

/// <summary>
/// Scalars held by static fields for the life of the process, for the towers' arithmetic. TorchSharp turns
/// <c>a + b</c> into <c>a.add(b, alpha: 1)</c> and <c>x * 1.702</c> into <c>x.mul(1.702)</c> with a temporary
/// <see cref="Scalar"/> that nothing references once its handle is passed to libtorch; a garbage collection started by
/// another thread during the native call (the feature cache's decoding workers allocate large buffers all the time)
/// lets the finalizer free the native scalar before libtorch reads it: "Expected false to be true ... toFloat", or a
/// silently wrong value (issue 18, item 6; reproduced by FinalizerRaceStressTests). A rooted scalar is never finalized.
/// </summary>
static class RootedScalars
{
    /// <summary>The <c>alpha</c> of a plain addition.</summary>
    public static readonly Scalar One = 1.ToScalar();

    /// <summary>QuickGELU's factor: x · sigmoid(1.702 x) (openai/CLIP model.py).</summary>
    public static readonly Scalar QuickGelu = 1.702.ToScalar();

    /// <summary>nn.BatchNorm2d's default eps, folded into the convolution.</summary>
    public static readonly Scalar BatchNormEps = 1e-5.ToScalar();
}
