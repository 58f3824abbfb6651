using Peft.Imaging;
using Peft.Data.Augmentation;

namespace Peft.Features;

/// <summary>
/// Training views: RandomResizedCrop + flip (<see cref="AugmentationSpec"/>), view v of an image drawn from a generator
/// seeded by (cell seed, image content hash, v) — so view v is the same whichever process, thread or order
/// computes it, and cached views are reused across methods that share the spec and seed.
/// </summary>
public sealed class AugmentedViewRenderer(AugmentationSpec spec, long seed) : IViewRenderer
{
    readonly ClipPreprocessor _normalizer = new(spec.Size);

    public string Key { get; } = $"train:{spec.Key}:{SplitMix64ViewRandom.Scheme}:seed={seed}";
    public int Size => spec.Size;

    public float[] Render(DecodedImage image, string imageKey, int viewIndex)
    {
        var view = TrainingViewSampler.Sample(spec, seed, imageKey, viewIndex, image);
        var pixels = new float[3 * Size * Size];
        _normalizer.Normalize(view, pixels);
        return pixels;
    }
}
