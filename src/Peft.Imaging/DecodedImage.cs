namespace Peft.Imaging;

/// <summary>
/// A decoded image file: the RGB pixels PIL's <c>Image.open(p).convert("RGB")</c> gives, plus what PIL's
/// resize needs to reproduce openai/CLIP exactly (the source mode, stored alpha, 16-bit gray samples).
/// </summary>
public sealed class DecodedImage
{
    /// <summary>The path or name it was decoded from (for messages).</summary>
    public string Name { get; }

    /// <summary>The mode PIL would open the file in.</summary>
    public PilImageMode Mode { get; }

    /// <summary>PIL <c>convert("RGB")</c>: gray replicated, palette looked up, alpha dropped (not composited).</summary>
    public RgbImage Rgb { get; }

    /// <summary>Stored (unpremultiplied) alpha, one byte per pixel, for <see cref="PilImageMode.LA"/> and <see cref="PilImageMode.RGBA"/>; else null.</summary>
    public byte[]? Alpha { get; }

    /// <summary>The 16-bit gray samples for <see cref="PilImageMode.I"/> (PIL converts them to RGB by clipping to 0..255); else null.</summary>
    public int[]? Intensity { get; }

    public int Width => Rgb.Width;
    public int Height => Rgb.Height;

    public DecodedImage(string name, PilImageMode mode, RgbImage rgb, byte[]? alpha = null, int[]? intensity = null)
    {
        ArgumentNullException.ThrowIfNull(rgb);
        int n = rgb.Width * rgb.Height;
        bool hasAlpha = mode is PilImageMode.LA or PilImageMode.RGBA;
        if (hasAlpha != (alpha is not null)) throw new ArgumentException($"Alpha must be given exactly for LA and RGBA (mode {mode}).", nameof(alpha));
        if (alpha is not null && alpha.Length != n) throw new ArgumentException("Alpha needs one byte per pixel.", nameof(alpha));
        if ((mode == PilImageMode.I) != (intensity is not null)) throw new ArgumentException($"Intensity must be given exactly for mode I (mode {mode}).", nameof(intensity));
        if (intensity is not null && intensity.Length != n) throw new ArgumentException("Intensity needs one value per pixel.", nameof(intensity));
        Name = name;
        Mode = mode;
        Rgb = rgb;
        Alpha = alpha;
        Intensity = intensity;
    }

    /// <summary>An RGB image that did not come from a file (mode RGB).</summary>
    public static DecodedImage FromRgb(RgbImage rgb, string name = "<memory>") => new(name, PilImageMode.RGB, rgb);
}
