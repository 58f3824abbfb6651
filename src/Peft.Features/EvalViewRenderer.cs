using Peft.Imaging;

namespace Peft.Features;

/// <summary>The deterministic evaluation transform (CLIP's resize + centre crop, or CoOp's squash); one view per image.</summary>
public sealed class EvalViewRenderer(ClipPreprocessor preprocessor) : IViewRenderer
{
    public string Key { get; } = $"eval:{preprocessor.ResizeMode}:{preprocessor.Size}";
    public int Size => preprocessor.Size;

    public float[] Render(DecodedImage image, string imageKey, int viewIndex)
    {
        if (viewIndex != 0) throw new ArgumentOutOfRangeException(nameof(viewIndex), "the evaluation transform has a single view (0)");
        var pixels = new float[3 * Size * Size];
        preprocessor.Normalize(preprocessor.PrepareRgb(image), pixels);
        return pixels;
    }
}
