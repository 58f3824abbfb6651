using static TorchSharp.torch;

namespace Peft.Core.Encoders;

/// <summary>
/// The frozen CLIP towers with insertion points, as encoder-level methods (LoRA, prompts inside the towers, BitFit) see
/// them. The pretrained weights stay frozen and are never written: a method builds a <see cref="TowerAdaptation"/> of
/// its own trainable deltas and runs the towers with it applied.
/// </summary>
public interface IAdaptableClip : IFrozenTextEncoder
{
    /// <summary>Side of the square images the image tower takes.</summary>
    int ImageResolution { get; }

    /// <summary>True for a ViT image tower; false for a ModifiedResNet, which has no transformer blocks (and so no image
    /// sites: its attention pool is not one).</summary>
    bool ImageTowerIsTransformer { get; }

    /// <summary>Number of transformer blocks of a tower (0 for a ModifiedResNet image tower).</summary>
    int Layers(Tower tower);

    /// <summary>Token width of a tower's transformer (0 for a ModifiedResNet image tower).</summary>
    int Width(Tower tower);

    /// <summary>Every linear site of both towers, text first, by block and <see cref="LinearKind"/>.</summary>
    IReadOnlyList<LinearSite> LinearSites { get; }
    IReadOnlyList<NormSite> NormSites { get; }
    IReadOnlyList<TokenSite> TokenSites { get; }

    /// <summary>A copy of the frozen bias [Out] of a linear site (every CLIP linear map has one): what a bias shift starts from.</summary>
    Tensor FrozenBias(LinearSite site);

    /// <summary>Copies of the frozen γ and β [Width] of a LayerNorm site.</summary>
    (Tensor Weight, Tensor Bias) FrozenNorm(NormSite site);

    /// <summary>
    /// Attaches <paramref name="adaptation"/> to the towers until the returned scope is disposed: every encode in between
    /// (<see cref="IFrozenTextEncoder.EncodeText"/>, <see cref="ForwardImage"/>, <see cref="ForwardText"/>, ...) runs the
    /// adapted towers. One adaptation at a time; a site it names that this model does not have is an error naming it.
    /// </summary>
    IDisposable Apply(TowerAdaptation adaptation);

    /// <summary>Image features [N, EmbedDim] (float32, not normalised) for preprocessed images [N, 3, R, R], with
    /// gradients flowing to the applied adaptation's parameters.</summary>
    Tensor ForwardImage(Tensor images);

    /// <summary>Text features [N, EmbedDim] (float32, not normalised) for token ids [N, L], pooled at the end-of-text
    /// token, with gradients flowing to the applied adaptation's parameters.</summary>
    Tensor ForwardText(Tensor tokens);
}
