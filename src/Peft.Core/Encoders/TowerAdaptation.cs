namespace Peft.Core.Encoders;

/// <summary>
/// What an encoder-level method adds to the frozen towers: a delta or transform per site. The pretrained weights are
/// never written; <see cref="IAdaptableClip.Apply"/> attaches these for a scope and detaches them after it.
/// </summary>
public sealed class TowerAdaptation
{
    readonly Dictionary<LinearSite, ILinearDelta> _linears = [];
    readonly Dictionary<NormSite, INormDelta> _norms = [];
    readonly Dictionary<TokenSite, ITokenTransform> _tokens = [];

    public IReadOnlyDictionary<LinearSite, ILinearDelta> Linears => _linears;
    public IReadOnlyDictionary<NormSite, INormDelta> Norms => _norms;
    public IReadOnlyDictionary<TokenSite, ITokenTransform> Tokens => _tokens;

    public bool IsEmpty => _linears.Count == 0 && _norms.Count == 0 && _tokens.Count == 0;

    public TowerAdaptation Add(LinearSite site, ILinearDelta delta) { AddOnce(_linears, site, delta); return this; }
    public TowerAdaptation Add(NormSite site, INormDelta delta) { AddOnce(_norms, site, delta); return this; }
    public TowerAdaptation Add(TokenSite site, ITokenTransform transform) { AddOnce(_tokens, site, transform); return this; }

    static void AddOnce<TSite, T>(Dictionary<TSite, T> map, TSite site, T value) where TSite : notnull
    {
        ArgumentNullException.ThrowIfNull(value);
        if (!map.TryAdd(site, value))
            throw new ArgumentException($"site {site} already has a {typeof(T).Name} in this adaptation (one per site; combine them in one)");
    }
}
