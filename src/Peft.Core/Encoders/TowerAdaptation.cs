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

    /// <summary>
    /// Gradient checkpointing per transformer block while this adaptation is applied and gradients are recorded (null:
    /// off). Each block keeps only its input; backward recomputes it. Memory for activations falls from all blocks to
    /// about one; a step costs one more forward pass. Results are unchanged (see <see cref="BlockCheckpointing"/>).
    /// </summary>
    public BlockCheckpointing? Checkpointing { get; set; }

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

/// <summary>
/// How the towers checkpoint their blocks: <paramref name="Generator"/> is the one the deltas draw dropout from; its state
/// is saved before each block and replayed when the block is recomputed, so the recomputation sees the same masks
/// (PyTorch's <c>checkpoint(preserve_rng_state=True)</c> does the same for the global generator).
/// </summary>
public sealed record BlockCheckpointing(TorchSharp.torch.Generator? Generator);
