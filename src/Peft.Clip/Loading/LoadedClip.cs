using Peft.Clip.Model;

namespace Peft.Clip.Loading;

/// <summary>A loaded model with what the loader learned about its checkpoint.</summary>
public sealed record LoadedClip(ClipModel Model, CheckpointFormat Format, string Path, IReadOnlyList<string> IgnoredKeys) : IDisposable
{
    public void Dispose() => Model.Dispose();
}
