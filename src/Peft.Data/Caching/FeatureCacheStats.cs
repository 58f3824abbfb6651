namespace Peft.Data.Caching;

/// <summary>What a cache did: features served from disk, and image views that went through the encoder.</summary>
public sealed class FeatureCacheStats
{
    long _hits, _encoded;
    public long Hits => Interlocked.Read(ref _hits);
    /// <summary>Encoder passes (one per image view computed).</summary>
    public long Encoded => Interlocked.Read(ref _encoded);
    internal void AddHits(long n) => Interlocked.Add(ref _hits, n);
    internal void AddEncoded(long n) => Interlocked.Add(ref _encoded, n);
    public override string ToString() => $"{Hits} cached, {Encoded} encoded";
}
