using Peft.Tensors;

namespace Peft.Clip.Model;

/// <summary>A checkpoint that cannot be read or does not fit the model; the message names the file and the key.</summary>
public sealed class ClipCheckpointException(string file, string problem, string? key = null, Exception? inner = null)
    : TensorFileException(file, problem, key, inner);
