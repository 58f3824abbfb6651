using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Peft.Imaging;

namespace Peft.Data.Augmentation;

/// <summary>
/// A training-view transform: <c>RandomResizedCrop(Size, scale, ratio, Interpolation)</c> then
/// <c>RandomHorizontalFlip(FlipProbability)</c>, applied to the RGB image (Dassl and Tip-Adapter open images
/// with <c>convert("RGB")</c> before transforming); or, with <see cref="CenterCrop"/>, CLIP's evaluation geometry
/// (<c>Resize(Size)</c> bicubic + <c>CenterCrop(Size)</c>, as <see cref="ClipPreprocessor"/>) then the flip.
/// <see cref="Key"/> is a stable text form for cache keys.
/// </summary>
public sealed record AugmentationSpec
{
    /// <summary>Output side length (square output, as in CoOp/Dassl and Tip-Adapter).</summary>
    public int Size { get; }
    public double ScaleMin { get; }
    public double ScaleMax { get; }
    public double RatioMin { get; }
    public double RatioMax { get; }
    public double FlipProbability { get; }
    public ResampleFilter Interpolation { get; }
    /// <summary>Centre crop with the evaluation geometry instead of RandomResizedCrop (scale, ratio and
    /// interpolation unused: the resize is CLIP's bicubic).</summary>
    public bool CenterCrop { get; }

    public AugmentationSpec(int size, double scaleMin = 0.08, double scaleMax = 1.0,
        double ratioMin = 3.0 / 4.0, double ratioMax = 4.0 / 3.0,
        double flipProbability = 0.5, ResampleFilter interpolation = ResampleFilter.Bicubic, bool centerCrop = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        // Scale may exceed 1 (torchvision allows it; the crop then falls back more often), but must be a range.
        if (!(scaleMin > 0 && scaleMin <= scaleMax && double.IsFinite(scaleMax)))
            throw new ArgumentOutOfRangeException(nameof(scaleMin), $"Scale must satisfy 0 < min <= max, got ({scaleMin}, {scaleMax}).");
        if (!(ratioMin > 0 && ratioMin <= ratioMax && double.IsFinite(ratioMax)))
            throw new ArgumentOutOfRangeException(nameof(ratioMin), $"Ratio must satisfy 0 < min <= max, got ({ratioMin}, {ratioMax}).");
        if (!(flipProbability >= 0 && flipProbability <= 1))
            throw new ArgumentOutOfRangeException(nameof(flipProbability), $"Flip probability must be in [0, 1], got {flipProbability}.");
        Size = size;
        ScaleMin = scaleMin;
        ScaleMax = scaleMax;
        RatioMin = ratioMin;
        RatioMax = ratioMax;
        FlipProbability = flipProbability;
        Interpolation = interpolation;
        CenterCrop = centerCrop;
    }

    /// <summary>Dassl/CoOp's default training transform: scale (0.08, 1), bicubic, flip 0.5.</summary>
    public static AugmentationSpec Dassl(int size = 224) => new(size);

    /// <summary>Tip-Adapter's training transform: scale (0.5, 1), bicubic, flip 0.5.</summary>
    public static AugmentationSpec TipAdapter(int size = 224) => new(size, scaleMin: 0.5);

    /// <summary>Cross-modal adaptation's "flip" view: the evaluation centre crop, always mirrored.</summary>
    public static AugmentationSpec CenterFlip(int size = 224) => new(size, scaleMin: 1.0, scaleMax: 1.0, flipProbability: 1.0, centerCrop: true);

    /// <summary>
    /// Stable text form, e.g. <c>rrc(224,s=0.08-1,r=0.75-1.3333333333333333,bicubic)+hflip(0.5)</c>. Numbers use the
    /// shortest round-trip invariant form, so two specs have the same key exactly when they are equal. A centre-crop
    /// spec is <c>ccrop(224,bicubic)+hflip(1)</c>.
    /// </summary>
    public string Key => CenterCrop
        ? $"ccrop({Size},bicubic)+hflip({Format(FlipProbability)})"
        : $"rrc({Size},s={Format(ScaleMin)}-{Format(ScaleMax)},r={Format(RatioMin)}-{Format(RatioMax)},"
        + $"{Interpolation.ToString().ToLowerInvariant()})+hflip({Format(FlipProbability)})";

    /// <summary>Lower-case hex SHA-256 of the UTF-8 <see cref="Key"/>.</summary>
    public string KeyHash => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Key)));

    static string Format(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    public override string ToString() => Key;
}
