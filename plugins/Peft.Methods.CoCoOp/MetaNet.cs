using static TorchSharp.torch;

namespace Peft.Methods.CoCoOp;

/// <summary>
/// CoCoOp's meta-net π (cocoop.py: Linear(vis_dim, vis_dim // 16) → ReLU → Linear(vis_dim // 16, ctx_dim)), mapping a
/// normalised image feature to a shift of every context vector. Initialised as nn.Linear does (weights and biases
/// U(−1/√fan_in, 1/√fan_in)), from the cell's generator.
/// </summary>
sealed class MetaNet : IDisposable
{
    public Tensor W1 { get; }
    public Tensor B1 { get; }
    public Tensor W2 { get; }
    public Tensor B2 { get; }
    public IReadOnlyList<Tensor> Parameters => [W1, B1, W2, B2];

    MetaNet(Tensor w1, Tensor b1, Tensor w2, Tensor b2)
    {
        (W1, B1, W2, B2) = (w1, b1, w2, b2);
        foreach (var p in Parameters) p.requires_grad_(true);
    }

    public static MetaNet Initialise(int visDim, int ctxDim, Generator generator)
    {
        if (visDim < 16) throw new ArgumentException($"cocoop: the meta-net's hidden width is vis_dim / 16; the image features have only {visDim} dimensions");
        int hidden = visDim / 16;
        Tensor Uniform(long[] shape, int fanIn)
        {
            using var r = rand(shape, generator: generator);
            return (r * 2 - 1) * (1 / Math.Sqrt(fanIn));
        }
        return new MetaNet(Uniform([hidden, visDim], visDim), Uniform([hidden], visDim), Uniform([ctxDim, hidden], hidden), Uniform([ctxDim], hidden));
    }

    /// <summary>Given weights (the official initialisation, in tests), copied.</summary>
    internal static MetaNet From(Tensor w1, Tensor b1, Tensor w2, Tensor b2) =>
        new(w1.detach().clone(), b1.detach().clone(), w2.detach().clone(), b2.detach().clone());

    /// <summary>π(x) [B, ctx_dim] for normalised image features x [B, vis_dim].</summary>
    public Tensor Forward(Tensor x) => nn.functional.relu(x.matmul(W1.t()) + B1).matmul(W2.t()) + B2;

    public void Dispose()
    {
        foreach (var p in Parameters) p.Dispose();
    }
}
