namespace Peft.Imaging;

/// <summary>PIL's resampling filters (<c>PIL.Image.Resampling</c>), with the same kernels and supports.</summary>
public enum ResampleFilter
{
    Nearest,
    /// <summary>Box, support 0.5.</summary>
    Box,
    /// <summary>Triangle, support 1.</summary>
    Bilinear,
    /// <summary>Hamming-windowed sinc, support 1.</summary>
    Hamming,
    /// <summary>Keys cubic with a = -0.5, support 2 (what CLIP uses).</summary>
    Bicubic,
    /// <summary>Lanczos-3, support 3.</summary>
    Lanczos,
}
