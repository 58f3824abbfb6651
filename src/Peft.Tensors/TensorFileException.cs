namespace Peft.Tensors;

/// <summary>
/// A tensor file that cannot be read; the message names the file and, where there is one, the key.
/// CLIP checkpoint errors (<c>Peft.Clip.Model.ClipCheckpointException</c>) are a kind of it.
/// </summary>
public class TensorFileException(string file, string problem, string? key = null, Exception? inner = null)
    : Exception($"{file}: {problem}", inner)
{
    public string File { get; } = file;
    public string? Key { get; } = key;
    /// <summary>What is wrong, without the file name.</summary>
    public string Problem { get; } = problem;
}
