using Peft.Core.Encoders;
using static TorchSharp.torch;

namespace Peft.Clip.Model;

/// <summary>
/// The insertion points of a <see cref="ClipModel"/>'s towers (<see cref="IAdaptableClip"/>): lists them and attaches a
/// <see cref="TowerAdaptation"/> to the modules for one scope at a time. The modules only hold references to the
/// deltas; no pretrained tensor is touched.
/// </summary>
sealed class TowerSiteMap
{
    readonly Dictionary<LinearSite, (ILinearDelta?[] Slots, int Index)> _linears = [];
    readonly Dictionary<LinearSite, Func<Tensor>> _biases = [];
    readonly Dictionary<NormSite, ClipLayerNorm> _norms = [];
    readonly Dictionary<TokenSite, Action<ITokenTransform?>> _tokens = [];
    TowerAdaptation? _applied;

    public TowerSiteMap(ClipTransformer text, ClipLayerNorm finalNorm, ClipVisionTransformer? image)
    {
        if (image is not null)
        {
            Add(Tower.Image, image.Transformer);
            _norms[new NormSite(Tower.Image, -1, NormKind.Pre, image.PreNorm.Width)] = image.PreNorm;
            _norms[new NormSite(Tower.Image, -1, NormKind.Post, image.PostNorm.Width)] = image.PostNorm;
            _tokens[new TokenSite(Tower.Image, -1, image.PreNorm.Width)] = t => image.BeforePreNorm = t;
        }
        Add(Tower.Text, text);
        _norms[new NormSite(Tower.Text, -1, NormKind.Post, finalNorm.Width)] = finalNorm;
        LinearSites = _linears.Keys.OrderBy(s => s.Tower == Tower.Image).ThenBy(s => s.Block).ThenBy(s => s.Kind).ToList();
        NormSites = _norms.Keys.OrderBy(s => s.Tower == Tower.Image).ThenBy(s => s.Block).ThenBy(s => s.Kind).ToList();
        TokenSites = _tokens.Keys.OrderBy(s => s.Tower == Tower.Image).ThenBy(s => s.Block).ToList();
    }

    public IReadOnlyList<LinearSite> LinearSites { get; }
    public IReadOnlyList<NormSite> NormSites { get; }
    public IReadOnlyList<TokenSite> TokenSites { get; }

    readonly List<ClipTransformer> _transformers = [];

    void Add(Tower tower, ClipTransformer transformer)
    {
        _transformers.Add(transformer);
        for (int b = 0; b < transformer.Blocks.Count; b++)
        {
            var block = transformer.Blocks[b];
            int width = block.Attention.Width;
            foreach (var (kind, i) in new[] { (LinearKind.Query, 0), (LinearKind.Key, 1), (LinearKind.Value, 2), (LinearKind.Output, 3) })
            {
                var site = new LinearSite(tower, b, kind, width, width);
                _linears[site] = (block.Attention.Deltas, i);
                _biases[site] = () => block.Attention.FrozenBias(i);
            }
            var up = new LinearSite(tower, b, LinearKind.MlpIn, width, 4 * width);
            var down = new LinearSite(tower, b, LinearKind.MlpOut, 4 * width, width);
            (_linears[up], _linears[down]) = ((block.Mlp.Deltas, 0), (block.Mlp.Deltas, 1));
            (_biases[up], _biases[down]) = (() => block.Mlp.FrozenBias(0), () => block.Mlp.FrozenBias(1));
            _norms[new NormSite(tower, b, NormKind.Attention, width)] = block.AttentionNorm;
            _norms[new NormSite(tower, b, NormKind.Mlp, width)] = block.MlpNorm;
            int index = b;
            _tokens[new TokenSite(tower, b, width)] = t => transformer.BeforeBlock[index] = t;
        }
    }

    public Tensor FrozenBias(LinearSite site) =>
        _biases.TryGetValue(site, out var bias) ? bias() : throw new ArgumentException($"this model has no site {site}");

    public (Tensor Weight, Tensor Bias) FrozenNorm(NormSite site) =>
        _norms.TryGetValue(site, out var norm) ? norm.Frozen : throw new ArgumentException($"this model has no site {site}");

    public IDisposable Apply(TowerAdaptation adaptation)
    {
        ArgumentNullException.ThrowIfNull(adaptation);
        var unknown = adaptation.Linears.Keys.Where(s => !_linears.ContainsKey(s)).Select(s => s.ToString())
            .Concat(adaptation.Norms.Keys.Where(s => !_norms.ContainsKey(s)).Select(s => s.ToString()))
            .Concat(adaptation.Tokens.Keys.Where(s => !_tokens.ContainsKey(s)).Select(s => s.ToString())).ToList();
        if (unknown.Count > 0)
            throw new ArgumentException($"this model has no site {string.Join(", ", unknown)} (sizes must match too; see LinearSites, NormSites, TokenSites)");
        lock (this)
        {
            if (_applied is not null) throw new InvalidOperationException("another adaptation is applied to these towers; dispose its scope first");
            _applied = adaptation;
        }
        foreach (var (site, delta) in adaptation.Linears) { var (slots, i) = _linears[site]; slots[i] = delta; }
        foreach (var (site, delta) in adaptation.Norms) _norms[site].Delta = delta;
        foreach (var (site, transform) in adaptation.Tokens) _tokens[site](transform);
        foreach (var t in _transformers)
        {
            t.Checkpointing = adaptation.Checkpointing;
            t.Reattach = adaptation.Checkpointing is null ? null : () => ReferenceEquals(_applied, adaptation) ? null : Apply(adaptation);
        }
        return new Scope(this, adaptation);
    }

    void Detach(TowerAdaptation adaptation)
    {
        foreach (var site in adaptation.Linears.Keys) { var (slots, i) = _linears[site]; slots[i] = null; }
        foreach (var site in adaptation.Norms.Keys) _norms[site].Delta = null;
        foreach (var site in adaptation.Tokens.Keys) _tokens[site](null);
        foreach (var t in _transformers) (t.Checkpointing, t.Reattach) = (null, null);
        lock (this) _applied = null;
    }

    sealed class Scope(TowerSiteMap map, TowerAdaptation adaptation) : IDisposable
    {
        int _disposed;
        public void Dispose() { if (Interlocked.Exchange(ref _disposed, 1) == 0) map.Detach(adaptation); }
    }
}
