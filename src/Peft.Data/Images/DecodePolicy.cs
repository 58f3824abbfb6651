namespace Peft.Data.Images;

/// <summary>What a batch load does with an image that is missing or does not decode.</summary>
public enum DecodePolicy
{
    /// <summary>Throw the <see cref="Peft.Imaging.ImageDecodeException"/> naming the file (the default).</summary>
    Fail,
    /// <summary>Leave the image out and report it in <see cref="ImageBatch.Skipped"/> with the reason; never silent.</summary>
    SkipUnreadable,
}
