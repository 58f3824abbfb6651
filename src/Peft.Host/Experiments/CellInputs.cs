using Peft.Data.Augmentation;
using Peft.Host.Methods;

namespace Peft.Host.Experiments;

/// <summary>
/// What the runner hands one cell's method beyond the shared features, and what it logs about it: the method's
/// points for the cell's dataset (presets applied), its training transform and the feature view serving it, the
/// oracle data under the as-published protocol (null otherwise), and the params and tags that record all of it.
/// </summary>
public sealed class CellInputs
{
    public required MethodSpec Method { get; init; }
    public required MethodAugmentation Augmentation { get; init; }
    public required AugmentationSpec AugmentationSpec { get; init; }
    public required MethodTaskFeatures Features { get; init; }
    public OracleTaskData? Oracle { get; init; }
    public required string FeatureCacheKey { get; init; }
    public required string Presets { get; init; }
    public required string Protocol { get; init; }

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

    /// <summary>The distinct transforms the methods read augmented views of (their own or forced), for filling the cache once per transform.</summary>
    public static IReadOnlyList<MethodAugmentation> TransformsOf(ExperimentSpec spec, IEnumerable<string> methods) =>
        methods.Distinct(StringComparer.Ordinal).Select(spec.AugmentationOf).Where(a => a.UsesViews)
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
        return tags;
    }

    public const string AugmentationParam = "augmentation";
    public const string AugmentationSpecParam = "augmentation_spec";
    public const string PresetParam = "method_presets";
}
