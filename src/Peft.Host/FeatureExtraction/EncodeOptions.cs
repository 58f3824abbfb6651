using Peft.Imaging;
using static TorchSharp.torch;

namespace Peft.Host.FeatureExtraction;

/// <summary>What <c>peft encode</c> does: which model, which inputs, where the features go.</summary>
public sealed record EncodeOptions
{
    public required string ModelPath { get; init; }
    public string? ImagesDir { get; init; }
    public string? TextsFile { get; init; }
    public required string OutPath { get; init; }
    public int BatchSize { get; init; } = 32;
    public ScalarType ComputeType { get; init; } = ScalarType.Float32;
    /// <summary>Intra-op threads for libtorch; null keeps its default (the number of cores).</summary>
    public int? Threads { get; init; }
    public ClipResizeMode ResizeMode { get; init; } = ClipResizeMode.ResizeShortSideAndCenterCrop;
    /// <summary>Cut texts longer than the context length (as clip.tokenize(truncate=True)) instead of failing.</summary>
    public bool TruncateTexts { get; init; }

    /// <summary>Image file extensions the decoder reads.</summary>
    public static readonly IReadOnlySet<string> ImageExtensions =
        new HashSet<string>(StringComparer.OrdinalIgnoreCase) { ".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp" };
}
