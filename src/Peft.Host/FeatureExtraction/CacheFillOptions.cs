using Peft.Imaging;
using static TorchSharp.torch;
using Peft.IO;

namespace Peft.Host.FeatureExtraction;

/// <summary>What <c>peft data features</c> computes ahead of an experiment.</summary>
public sealed record CacheFillOptions
{
    public required string Dataset { get; init; }
    public required string Root { get; init; }
    public required string ModelPath { get; init; }
    public required int Shots { get; init; }
    public required int Seed { get; init; }
    /// <summary>Augmented training views per image (Tip-Adapter's cache uses 10; 0 for none).</summary>
    public int Views { get; init; } = 10;
    /// <summary>"tip" (RandomResizedCrop scale 0.5-1, Tip-Adapter) or "dassl" (scale 0.08-1, CoOp).</summary>
    public string Augmentation { get; init; } = "tip";
    public string CacheDir { get; init; } = PeftHome.Resolve("cache");
    public int BatchSize { get; init; } = 32;
    public ScalarType ComputeType { get; init; } = ScalarType.Float32;
    public ClipResizeMode ResizeMode { get; init; } = ClipResizeMode.ResizeShortSideAndCenterCrop;
}
