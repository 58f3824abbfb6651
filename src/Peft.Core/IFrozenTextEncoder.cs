using static TorchSharp.torch;

namespace Peft.Core;

/// <summary>
/// The frozen CLIP text tower as adaptation methods see it. Besides encoding token ids it exposes the path from
/// token embeddings, so prompt-learning methods (CoOp) can back-propagate into learned context vectors while the
/// tower's own weights stay frozen.
/// </summary>
public interface IFrozenTextEncoder
{
    /// <summary>Maximum sequence length (77 for CLIP).</summary>
    int ContextLength { get; }

    /// <summary>Width of the token embeddings (512 for ViT-B and RN50).</summary>
    int TextWidth { get; }

    /// <summary>Dimension of the joint image-text space.</summary>
    int EmbedDim { get; }

    /// <summary>exp(logit_scale): the temperature CLIP was trained with (100 for the released models).</summary>
    float LogitScale { get; }

    /// <summary>Text features [N, EmbedDim], projected, not normalised, for token ids [N, L], pooled at the end-of-text token.</summary>
    Tensor EncodeText(Tensor tokens);

    /// <summary>The frozen embedding lookup: token ids [N, L] → [N, L, TextWidth].</summary>
    Tensor EmbedTokens(Tensor tokens);

    /// <summary>
    /// Text features from token embeddings [N, L, TextWidth] (L ≤ ContextLength), pooled at <paramref name="eotIndex"/> [N].
    /// The attention mask is causal, so truncating L to the longest prompt gives the same features.
    /// </summary>
    Tensor EncodeTokenEmbeddings(Tensor embeddings, Tensor eotIndex);
}
