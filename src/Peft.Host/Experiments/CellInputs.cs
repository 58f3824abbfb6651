using Peft.Data.Augmentation;
using Peft.Host.Methods;
using Peft.Results;

namespace Peft.Host.Experiments;

/// <summary>
/// What the runner hands one cell's method beyond the shared features, and what it logs about it: the method's
/// points for the cell's dataset (presets applied), its training transform and the feature view serving it, the
/// oracle data under the as-published protocol (null otherwise), and the params and tags that record all of it.
/// </summary>
public sealed record CellInputs
{
    public required MethodSpec Method { get; init; }
    public required MethodAugmentation Augmentation { get; init; }
    public required AugmentationSpec AugmentationSpec { get; init; }
    public required MethodTaskFeatures Features { get; init; }
    public OracleTaskData? Oracle { get; init; }
    public required string FeatureCacheKey { get; init; }
    public required string Presets { get; init; }
    public required string Protocol { get; init; }
    /// <summary>Encoder tier only: SHA-256 of the pretrained weights, equal before and after every fit of the cell.</summary>
    public string? FrozenWeights { get; init; }
    /// <summary>Encoder tier only: the dtype its towers computed in (the backbone's, or <c>backbone.encoderDtype</c>).</summary>
    public string? EncoderDtype { get; init; }

    /// <summary>Whether the method read test or full-validation data (only possible under the as-published protocol).</summary>
    public bool OracleUsed => Oracle?.Used == true;

    public static CellInputs For(ExperimentSpec spec, BackboneSession session, ExperimentCell cell, ICellFeatures features)
    {
        var augmentation = spec.AugmentationOf(cell.Method);
        var augmentationSpec = session.Spec(augmentation);
        return new CellInputs
        {
            Method = spec.Method(cell.Method).ForDataset(cell.Dataset), Augmentation = augmentation, AugmentationSpec = augmentationSpec,
            Features = new MethodTaskFeatures(features, augmentationSpec), Oracle = spec.IsAsPublished ? new OracleTaskData(features) : null,
            FeatureCacheKey = session.FeatureCacheKeyFor(augmentationSpec), Presets = spec.Method(cell.Method).PresetsFor(cell.Dataset),
            Protocol = spec.Protocol,
        };
    }

    /// <summary>The distinct transforms the methods read augmented views of (their own or forced), for filling the cache once per
    /// transform. Encoder-level methods read images, not cached views.</summary>
    public static IReadOnlyList<MethodAugmentation> TransformsOf(ExperimentSpec spec, IEnumerable<string> methods) =>
        methods.Distinct(StringComparer.Ordinal).Where(m => !spec.Method(m).Descriptor.IsEncoderMethod).Select(spec.AugmentationOf).Where(a => a.UsesViews)
            .DistinctBy(a => a.Transform.Name, StringComparer.Ordinal).ToList();

    /// <summary>Params of the cell run: the transform (with its origin) and the presets applied.</summary>
    public IReadOnlyDictionary<string, string> Params() => new Dictionary<string, string>
    {
        [AugmentationParam] = Augmentation.ToString(), [AugmentationSpecParam] = AugmentationSpec.Key, [PresetParam] = Presets,
    };

    /// <summary>Tags of the cell run: the protocol, and <c>peft.oracle=true</c> when the method read oracle data.</summary>
    public IReadOnlyDictionary<string, string> Tags()
    {
        var tags = new Dictionary<string, string> { [ExperimentProtocol.ProtocolTag] = Protocol };
        if (OracleUsed) tags[ExperimentProtocol.OracleTag] = "true";
        if (FrozenWeights is not null)
        {
            tags[TierTag] = "encoder";
            tags[FrozenWeightsTag] = FrozenWeights;
            if (EncoderDtype is not null) tags[EncoderDtypeTag] = EncoderDtype;
        }
        return tags;
    }

    public const string AugmentationParam = "augmentation";
    public const string AugmentationSpecParam = "augmentation_spec";
    public const string PresetParam = "method_presets";
    /// <summary><c>encoder</c> on cells of methods that train inside the towers (their test features are per cell).</summary>
    public const string TierTag = "peft.tier";
    /// <summary>SHA-256 of the pretrained weights, checked bit-identical after the method's fit.</summary>
    public const string FrozenWeightsTag = "peft.pretrained_sha256";
    /// <summary>fp32 or bf16: the compute dtype of an encoder-tier cell's towers.</summary>
    public const string EncoderDtypeTag = "peft.encoder_dtype";
}
