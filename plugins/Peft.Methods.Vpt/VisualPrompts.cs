using Peft.Core.Encoders;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Methods.Vpt;

/// <summary>
/// VPT's prompts as token transforms of the image tower (MaPLe clip/model.py, trainer "VPT"): the first set is appended
/// after the positional embedding, before <c>ln_pre</c> (<c>VisionTransformer.forward</c>); each deeper block up to the
/// depth replaces the last NCtx tokens, the previous block's prompt outputs, with its own set
/// (<c>ResidualAttentionBlock_IVLP.forward</c>). The class token stays first, so pooling is unchanged.
/// </summary>
public sealed class VisualPrompts : IDisposable
{
    readonly List<(string Name, Parameter Prompts)> _sets = [];

    public VisualPrompts(IAdaptableClip clip, VptOptions options, Generator? generator)
    {
        if (!clip.ImageTowerIsTransformer)
            throw new ArgumentException("vpt: prompts go inside the image tower's transformer blocks; this backbone's image tower is a ModifiedResNet");
        int width = clip.Width(Tower.Image), depth = Math.Min(options.Depth, clip.Layers(Tower.Image));
        using (no_grad())
        {
            for (int layer = 0; layer < depth; layer++)
                _sets.Add((layer == 0 ? "embeddings" : $"{layer}", new Parameter(empty(options.NCtx, width).normal_(0, options.InitStd, generator), requires_grad: true)));
        }
        Adaptation.Add(clip.TokenSites.Single(s => s.Tower == Tower.Image && s.Block == -1), new Append(_sets[0].Prompts));
        for (int layer = 1; layer < depth; layer++)
            Adaptation.Add(clip.TokenSites.Single(s => s.Tower == Tower.Image && s.Block == layer), new ReplaceLast(_sets[layer].Prompts));
    }

    public TowerAdaptation Adaptation { get; } = new();

    /// <summary>The prompt sets, named <c>embeddings</c> (the input's) and by block index.</summary>
    public IReadOnlyList<(string Name, Parameter Prompts)> Sets => _sets;

    public void Dispose() { foreach (var (_, p) in _sets) p.Dispose(); }

    sealed class Append(Parameter prompts) : ITokenTransform
    {
        public Tensor Transform(Tensor tokens) =>
            cat([tokens, prompts.to(tokens.dtype).expand(tokens.shape[0], -1, -1)], 1);
    }

    sealed class ReplaceLast(Parameter prompts) : ITokenTransform
    {
        public Tensor Transform(Tensor tokens) =>
            cat([tokens.narrow(1, 0, tokens.shape[1] - prompts.shape[0]), prompts.to(tokens.dtype).expand(tokens.shape[0], -1, -1)], 1);
    }
}
