namespace Peft.Imaging;

/// <summary>
/// The mode PIL's <c>Image.open</c> reports for a file. It matters beyond decoding because PIL's
/// <c>resize</c> depends on it: palette and bilevel images are resized with NEAREST whatever filter is
/// asked for, and images with alpha are resized premultiplied. openai/CLIP resizes before converting to RGB.
/// </summary>
public enum PilImageMode
{
    /// <summary>8-bit grayscale ("L").</summary>
    L,
    /// <summary>Grayscale with alpha ("LA").</summary>
    LA,
    RGB,
    RGBA,
    /// <summary>Palette ("P"), with or without a transparent entry.</summary>
    P,
    /// <summary>Bilevel ("1"), e.g. a 1-bit grayscale PNG.</summary>
    Bilevel,
    /// <summary>32-bit integer ("I"): what PIL 9.4 makes of a 16-bit grayscale PNG.</summary>
    I,
    /// <summary>
    /// Four-component JPEG ("CMYK"). The RGB is exactly PIL's <c>convert("RGB")</c>, but the CMYK samples are not
    /// available, so openai/CLIP's resize (done by PIL on the CMYK samples) is approximated by resizing the RGB.
    /// </summary>
    CMYK,
}
