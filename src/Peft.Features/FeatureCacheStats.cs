namespace Peft.Features;

/// <summary>What a cache did: features served from disk, and image views that went through the encoder.</summary>
public sealed class FeatureCacheStats
{
    long _hits, _encoded, _rejected;
    public long Hits => Interlocked.Read(ref _hits);
    /// <summary>Encoder passes (one per image view computed).</summary>
    public long Encoded => Interlocked.Read(ref _encoded);
    /// <summary>Entries found on disk but not used: damaged (checksum mismatch) or without a checksum; they are recomputed.</summary>
    public long Rejected => Interlocked.Read(ref _rejected);
    internal void AddRejected(long n) => Interlocked.Add(ref _rejected, n);
    internal void AddHits(long n) => Interlocked.Add(ref _hits, n);
    internal void AddEncoded(long n) => Interlocked.Add(ref _encoded, n);
    public override string ToString() => $"{Hits} cached, {Encoded} encoded" + (Rejected > 0 ? $" ({Rejected} damaged or unchecked entries recomputed)" : "");
}
