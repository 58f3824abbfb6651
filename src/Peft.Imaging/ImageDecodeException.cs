namespace Peft.Imaging;

/// <summary>An image file that is missing, unreadable, truncated or not an image; the message names the file.</summary>
public sealed class ImageDecodeException : IOException
{
    /// <summary>The path or name of the image that failed.</summary>
    public string ImageName { get; }

    public ImageDecodeException(string source, string reason, Exception? inner = null)
        : base($"Cannot decode image '{source}': {reason}", inner)
    {
        ImageName = source;
    }
}
