using static TorchSharp.torch;

namespace Peft.Core;

/// <summary>Turns texts into the token ids the frozen text encoder reads.</summary>
public interface ITextTokenizer
{
    /// <summary>Token ids of one text, without start/end-of-text markers.</summary>
    int[] Encode(string text);

    /// <summary>Rows of [start, ids..., end] zero-padded to <paramref name="contextLength"/>, as an Int64 tensor [N, contextLength].</summary>
    Tensor TokenizeToTensor(IReadOnlyList<string> texts, int contextLength, bool truncate = false);
}
