using Peft.Imaging;

namespace Peft.Data.Images;

/// <summary>
/// The result of <see cref="ImageBatchLoader.Load"/>: the images that decoded, in input order, each with its
/// position in the input list, and the ones that were skipped (empty unless <see cref="DecodePolicy.SkipUnreadable"/>).
/// </summary>
public sealed class ImageBatch
{
    public IReadOnlyList<DecodedImage> Images { get; }

    /// <summary><c>SourceIndices[k]</c> is the position in the input path list of <c>Images[k]</c>.</summary>
    public IReadOnlyList<int> SourceIndices { get; }

    /// <summary>Missing or undecodable images, in input order.</summary>
    public IReadOnlyList<SkippedImage> Skipped { get; }

    public ImageBatch(IReadOnlyList<DecodedImage> images, IReadOnlyList<int> sourceIndices, IReadOnlyList<SkippedImage> skipped)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(sourceIndices);
        ArgumentNullException.ThrowIfNull(skipped);
        if (images.Count != sourceIndices.Count) throw new ArgumentException("Need one source index per image.", nameof(sourceIndices));
        Images = images;
        SourceIndices = sourceIndices;
        Skipped = skipped;
    }
}
