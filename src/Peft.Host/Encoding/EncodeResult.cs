namespace Peft.Host.Encoding;

/// <summary>What an encode run produced.</summary>
public sealed record EncodeResult(string OutPath, int Images, int Texts, int EmbedDim, TimeSpan Elapsed);
