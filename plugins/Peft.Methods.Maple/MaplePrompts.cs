using Peft.Core;
using Peft.Core.Encoders;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Methods.Maple;

/// <summary>
/// MaPLe's prompt learner (trainers/maple.py <c>MultiModalPromptLearner</c>, clip/model.py MaPLe blocks) on the
/// towers' insertion points. Text: the class prompts' token embeddings with positions 1..n replaced by the context;
/// at blocks 1..depth−1 of the text tower the same positions are replaced by that layer's compound prompt. Image: the
/// context projected to the image width (<c>proj</c>) is appended after the positional embedding; at blocks
/// 1..depth−1 the last n tokens are replaced by that layer's compound prompt projected by its own linear map. The
/// projections couple the towers: the image prompts are functions of the text prompts.
/// </summary>
public sealed class MaplePrompts : IDisposable
{
    readonly Tensor _prefix, _suffix, _eot;
    readonly int _nCtx;

    /// <param name="classTokens">Token ids [C, L] of the class prompts; positions 1..n are the context's.</param>
    /// <param name="ctxInit">Initial context [n, text width], or null for Normal(0, 0.02).</param>
    public MaplePrompts(IAdaptableClip clip, Tensor classTokens, int nCtx, int depth, Tensor? ctxInit, Generator? generator)
    {
        if (!clip.ImageTowerIsTransformer)
            throw new ArgumentException("maple: prompts go inside the image tower's transformer blocks; this backbone's image tower is a ModifiedResNet");
        int layers = Math.Min(clip.Layers(Tower.Text), clip.Layers(Tower.Image));
        if (depth > layers)
            throw new ArgumentException($"maple: depth {depth} exceeds the towers' blocks ({clip.Layers(Tower.Text)} text, {clip.Layers(Tower.Image)} image)");
        int textWidth = clip.Width(Tower.Text), imageWidth = clip.Width(Tower.Image);
        _nCtx = nCtx;
        using (no_grad())
        {
            var embedded = clip.EmbedTokens(classTokens).to(ScalarType.Float32);
            _prefix = embedded.narrow(1, 0, 1).detach().clone();
            _suffix = embedded.narrow(1, 1 + nCtx, embedded.shape[1] - 1 - nCtx).detach().clone();
            _eot = classTokens.argmax(-1);
            Ctx = new Parameter(ctxInit?.to(ScalarType.Float32).clone() ?? empty(nCtx, textWidth).normal_(0, 0.02, generator), requires_grad: true);
            (ProjWeight, ProjBias) = LinearInit(textWidth, imageWidth, generator);
            CompoundText = Enumerable.Range(0, depth - 1)
                .Select(_ => new Parameter(empty(nCtx, textWidth).normal_(0, 0.02, generator), requires_grad: true)).ToList();
            // _get_clones deep-copies one nn.Linear: every layer's projection starts from the same values.
            var (w, b) = LinearInit(textWidth, imageWidth, generator);
            CompoundProjections = Enumerable.Range(0, depth - 1)
                .Select(_ => (new Parameter(w.clone(), requires_grad: true), new Parameter(b.clone(), requires_grad: true))).ToList();
            w.Dispose();
            b.Dispose();
        }
        Adaptation.Add(Site(clip, Tower.Image, -1), new Append(() => nn.functional.linear(Ctx, ProjWeight, ProjBias)));
        for (int layer = 1; layer < depth; layer++)
        {
            var text = CompoundText[layer - 1];
            var (weight, bias) = CompoundProjections[layer - 1];
            Adaptation.Add(Site(clip, Tower.Text, layer), new ReplaceAfterStart(text));
            Adaptation.Add(Site(clip, Tower.Image, layer), new ReplaceLast(() => nn.functional.linear(text, weight, bias)));
        }
    }

    static TokenSite Site(IAdaptableClip clip, Tower tower, int block) => clip.TokenSites.Single(s => s.Tower == tower && s.Block == block);

    /// <summary>nn.Linear's default initialisation: U(±1/√fan_in) for weight [out, in] and bias.</summary>
    static (Parameter Weight, Parameter Bias) LinearInit(int inFeatures, int outFeatures, Generator? generator)
    {
        double bound = 1 / Math.Sqrt(inFeatures);
        return (new Parameter(empty(outFeatures, inFeatures).uniform_(-bound, bound, generator), requires_grad: true),
                new Parameter(empty(outFeatures).uniform_(-bound, bound, generator), requires_grad: true));
    }

    public Parameter Ctx { get; }
    public Parameter ProjWeight { get; }
    public Parameter ProjBias { get; }
    public IReadOnlyList<Parameter> CompoundText { get; }
    public IReadOnlyList<(Parameter Weight, Parameter Bias)> CompoundProjections { get; }
    public TowerAdaptation Adaptation { get; } = new();

    /// <summary>Every trainable tensor, named as the official prompt learner's state_dict names them.</summary>
    public IEnumerable<(string Name, Parameter Parameter)> Parameters()
    {
        yield return ("ctx", Ctx);
        yield return ("proj.weight", ProjWeight);
        yield return ("proj.bias", ProjBias);
        for (int i = 0; i < CompoundText.Count; i++) yield return ($"compound_prompts_text.{i}", CompoundText[i]);
        for (int i = 0; i < CompoundProjections.Count; i++)
        {
            yield return ($"compound_prompt_projections.{i}.weight", CompoundProjections[i].Weight);
            yield return ($"compound_prompt_projections.{i}.bias", CompoundProjections[i].Bias);
        }
    }

    /// <summary>The class prompts' text features [C, D] (unnormalised) through the text tower; call with <see cref="Adaptation"/>
    /// applied, so the deep text prompts act. Truncated after the last end-of-text token (exact under the causal mask).</summary>
    public Tensor TextFeatures(IAdaptableClip clip) => TextFeatures(clip, _prefix, _suffix, _eot);

    /// <summary>The same for other class prompts (token ids [C', L], positions 1..n the context's), as the official code
    /// builds a prompt learner for new classes and loads the trained context into it (base-to-new, transfer).</summary>
    public Tensor TextFeaturesOf(IAdaptableClip clip, Tensor classTokens)
    {
        using var scope = NewDisposeScope();
        var embedded = clip.EmbedTokens(classTokens).to(ScalarType.Float32);
        return TextFeatures(clip, embedded.narrow(1, 0, 1), embedded.narrow(1, 1 + _nCtx, embedded.shape[1] - 1 - _nCtx), classTokens.argmax(-1))
            .MoveToOuterDisposeScope();
    }

    Tensor TextFeatures(IAdaptableClip clip, Tensor prefix, Tensor suffix, Tensor eot)
    {
        using var scope = NewDisposeScope();
        long n = prefix.shape[0];
        var embeddings = cat([prefix, Ctx.unsqueeze(0).expand(n, -1, -1), suffix], 1);
        long used = Math.Min(embeddings.shape[1], eot.max().item<long>() + 1);
        // EncodeTokenEmbeddings returns the compute type (bf16 models): the loss and classifier work in fp32.
        return clip.EncodeTokenEmbeddings(embeddings.narrow(1, 0, used), eot).to(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        foreach (var (_, p) in Parameters()) p.Dispose();
        _prefix.Dispose();
        _suffix.Dispose();
        _eot.Dispose();
    }

    sealed class Append(Func<Tensor> prompts) : ITokenTransform
    {
        public Tensor Transform(Tensor tokens)
        {
            var p = prompts();
            return cat([tokens, p.to(tokens.dtype).expand(tokens.shape[0], -1, -1)], 1);
        }
    }

    sealed class ReplaceLast(Func<Tensor> prompts) : ITokenTransform
    {
        public Tensor Transform(Tensor tokens)
        {
            var p = prompts();
            return cat([tokens.narrow(1, 0, tokens.shape[1] - p.shape[0]), p.to(tokens.dtype).expand(tokens.shape[0], -1, -1)], 1);
        }
    }

    /// <summary>Positions 1..n (after the start token) replaced: the text tower keeps its sequence length.</summary>
    sealed class ReplaceAfterStart(Parameter prompts) : ITokenTransform
    {
        public Tensor Transform(Tensor tokens)
        {
            long n = prompts.shape[0];
            return cat([tokens.narrow(1, 0, 1), prompts.to(tokens.dtype).expand(tokens.shape[0], -1, -1),
                tokens.narrow(1, 1 + n, tokens.shape[1] - 1 - n)], 1);
        }
    }
}
