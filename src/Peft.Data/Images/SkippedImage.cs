namespace Peft.Data.Images;

/// <summary>An image a <see cref="DecodePolicy.SkipUnreadable"/> load left out: its path, position in the input, and why.</summary>
public sealed record SkippedImage(string Path, int Index, string Reason)
{
    public override string ToString() => $"{Path}: {Reason}";
}
