namespace Peft.Imaging;

/// <summary>How <see cref="ClipPreprocessor"/> brings an image to size x size.</summary>
public enum ClipResizeMode
{
    /// <summary>
    /// openai/CLIP's eval transform: <c>Resize(size, BICUBIC)</c> on the image as opened (PIL mode rules apply),
    /// <c>CenterCrop(size)</c>, then <c>convert("RGB")</c>.
    /// </summary>
    ResizeShortSideAndCenterCrop,

    /// <summary>
    /// CoOp/Dassl style: <c>convert("RGB")</c> first (as Dassl's read_image does), then
    /// <c>Resize((size, size), BICUBIC)</c>, ignoring the aspect ratio; no crop.
    /// </summary>
    Squash,
}
