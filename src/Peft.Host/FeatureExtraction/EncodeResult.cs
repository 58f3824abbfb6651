namespace Peft.Host.FeatureExtraction;

/// <summary>What an encode run produced.</summary>
public sealed record EncodeResult(string OutPath, int Images, int Texts, int EmbedDim, TimeSpan Elapsed);
