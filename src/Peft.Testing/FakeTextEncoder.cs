using Peft.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Peft.Testing;

/// <summary>
/// A small deterministic stand-in for CLIP's frozen text tower: a random token-embedding table (CLIP's vocabulary),
/// position embeddings, mean pooling up to the end-of-text token and a random projection. Different prompts give
/// different features, the same prompt always the same; <see cref="EncodeTokenEmbeddings"/> is differentiable with
/// respect to its input (prompt learning works) while the encoder's own tensors never require gradients.
/// </summary>
public sealed class FakeTextEncoder : IFrozenTextEncoder, IDisposable
{
    readonly Tensor _tokenEmbedding, _positionEmbedding, _projection;

    /// <param name="embedDim">Dimension of the joint image-text space.</param>
    /// <param name="textWidth">Width of the token embeddings.</param>
    /// <param name="vocabularySize">Token ids accepted (CLIP's tokenizer: 49408).</param>
    /// <param name="seed">Seed of the random tables.</param>
    public FakeTextEncoder(int embedDim = 64, int textWidth = 32, int contextLength = 77, int vocabularySize = 49408,
        float logitScale = 100, long seed = 1)
    {
        PeftTesting.EnsureNativeLibraries();
        EmbedDim = embedDim;
        TextWidth = textWidth;
        ContextLength = contextLength;
        LogitScale = logitScale;
        var g = new Generator((ulong)seed);
        _tokenEmbedding = randn([vocabularySize, textWidth], generator: g).DetachFromDisposeScope();
        _positionEmbedding = (randn([contextLength, textWidth], generator: g) * 0.1).DetachFromDisposeScope();
        _projection = (randn([textWidth, embedDim], generator: g) / Math.Sqrt(textWidth)).DetachFromDisposeScope();
    }

    public int ContextLength { get; }
    public int TextWidth { get; }
    public int EmbedDim { get; }
    public float LogitScale { get; }

    /// <summary>Features [N, EmbedDim] of token ids [N, L]; the end-of-text token is the largest id of a row (as in CLIP).</summary>
    public Tensor EncodeText(Tensor tokens)
    {
        using var scope = NewDisposeScope();
        return EncodeTokenEmbeddings(EmbedTokens(tokens), tokens.argmax(-1)).MoveToOuterDisposeScope();
    }

    public Tensor EmbedTokens(Tensor tokens) => _tokenEmbedding[tokens.to(ScalarType.Int64)];

    public Tensor EncodeTokenEmbeddings(Tensor embeddings, Tensor eotIndex)
    {
        using var scope = NewDisposeScope();
        long length = embeddings.shape[1];
        var x = embeddings + _positionEmbedding.narrow(0, 0, length).to(embeddings.dtype);
        // Positions up to and including the end-of-text token (a causal model sees nothing after it).
        var mask = arange(length).unsqueeze(0).le(eotIndex.to(ScalarType.Int64).unsqueeze(1)).to(embeddings.dtype).unsqueeze(-1);
        var pooled = (x * mask).sum(1) / mask.sum(1);
        return pooled.tanh().matmul(_projection.to(embeddings.dtype)).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        _tokenEmbedding.Dispose();
        _positionEmbedding.Dispose();
        _projection.Dispose();
    }
}
