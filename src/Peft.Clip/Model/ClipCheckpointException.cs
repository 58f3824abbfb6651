namespace Peft.Clip.Model;

/// <summary>A checkpoint that cannot be read or does not fit the model; the message names the file and the key.</summary>
public sealed class ClipCheckpointException(string file, string problem, string? key = null, Exception? inner = null)
    : Exception($"{file}: {problem}", inner)
{
    public string File { get; } = file;
    public string? Key { get; } = key;
}
