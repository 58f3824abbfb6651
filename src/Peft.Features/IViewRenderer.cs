using Peft.Imaging;

namespace Peft.Features;

/// <summary>How a decoded image becomes the normalised pixels of one cached view (eval transform, a training augmentation, ...).</summary>
public interface IViewRenderer
{
    /// <summary>
    /// Everything that determines the pixels besides the image and the view index (transform, size, augmentation
    /// spec, seed), as a stable string. It is part of the cache key, so two renderers with the same key must
    /// produce the same pixels.
    /// </summary>
    string Key { get; }

    /// <summary>Output side length in pixels (must equal the model's input resolution).</summary>
    int Size { get; }

    /// <summary>Normalised pixels [3, Size, Size] (flattened) of view <paramref name="viewIndex"/> of the image whose content hash is <paramref name="imageKey"/>.</summary>
    float[] Render(DecodedImage image, string imageKey, int viewIndex);
}
