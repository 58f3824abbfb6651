namespace Peft.Data.Synthetic;

/// <summary>What <see cref="SyntheticWorld.Generate"/> writes. Everything except <see cref="Threads"/> is recorded in the manifest.</summary>
public sealed record SyntheticWorldOptions
{
    /// <summary>Global seed: the same seed (and options) gives byte-identical files.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Side of the square images in pixels (the world is drawn at this size, not downscaled).</summary>
    public int ImageSize { get; init; } = 64;

    /// <summary>Captioned pretraining images.</summary>
    public int PretrainCount { get; init; } = 20_000;

    public int TrainPerClass { get; init; } = 100;
    public int ValPerClass { get; init; } = 20;
    public int TestPerClass { get; init; } = 50;

    /// <summary>Fraction of pretraining images with two objects and a spatial relation.</summary>
    public double TwoObjectFraction { get; init; } = 0.35;

    /// <summary>How often a caption names a shade (crimson) rather than its basic colour (red).</summary>
    public double ShadeNameProbability { get; init; } = 0.3;

    /// <summary>Rendering threads (null: all processors). Does not change the output.</summary>
    public int? Threads { get; init; }

    internal void Validate()
    {
        if (ImageSize is < 24 or > 1024) throw new ArgumentException($"image size must be in 24..1024 pixels, got {ImageSize}");
        if (PretrainCount < 0) throw new ArgumentException($"pretraining count must not be negative, got {PretrainCount}");
        if (TrainPerClass < 1 || ValPerClass < 0 || TestPerClass < 1)
            throw new ArgumentException($"per-class counts must be train ≥ 1, val ≥ 0, test ≥ 1 (got {TrainPerClass}/{ValPerClass}/{TestPerClass})");
        if (TrainPerClass > 999_999 || ValPerClass > 999_999 || TestPerClass > 999_999)
            throw new ArgumentException("per-class counts must be below 1,000,000");
        if (TwoObjectFraction is < 0 or > 1 || ShadeNameProbability is < 0 or > 1)
            throw new ArgumentException("fractions and probabilities must be in [0, 1]");
        if (Threads is < 1) throw new ArgumentException($"threads must be positive, got {Threads}");
    }
}
