using Peft.Core;
using Peft.Data.Datasets;
using Peft.Data.Splits;
using Peft.Host.Methods;

namespace Peft.Host.Experiments;

/// <summary>
/// What one (dataset, shots, seed) group of an experiment gives its methods: the split and the features (training
/// features, augmented views per training transform, validation and test). The runner and <c>peft data export-cell</c>
/// both take them from here, so an exported cell is what the methods of a run get.
/// </summary>
public static class CellData
{
    /// <param name="warn">Where a damaged split manifest that was rebuilt is reported.</param>
    public static SplitManifest Split(ExperimentSpec spec, ImageDataset dataset, int shots, int seed, Action<string>? warn = null)
    {
        string folder = Path.Combine(spec.CacheDir, "splits");
        var store = warn is null ? new SplitStore(folder) : new SplitStore(folder) { Warn = warn };
        var request = new FewShotRequest(shots, seed, SamplingMode.Dassl, spec.ValShots);
        return IsFeaturesFile(dataset)
            ? FeaturesDatasetReader.Split(dataset, request, store)
            : store.GetOrCreate(dataset, request, out _);
    }

    /// <summary>The cell's features: read from a <c>features</c> file, or from the feature cache (encoding what is missing).</summary>
    public static ICellFeatures Features(ExperimentSpec spec, BackboneSession session, ImageDataset dataset, SplitManifest split, CancellationToken cancel)
    {
        if (IsFeaturesFile(dataset))
        {
            if (FeaturesDatasetReader.BackboneFingerprint(dataset.Root) is { } fingerprint && fingerprint != session.Cache.BackboneFingerprint)
                throw new DatasetFormatException(dataset.Root, $"features come from backbone {fingerprint[..12]} but the experiment's backbone '{spec.Backbone.Model}' is {session.Cache.BackboneFingerprint[..12]} (its text tower must match)");
            return new PrecomputedTaskFeatures(dataset.Root, split, session.EmbedDim);
        }
        // Views are asked per transform (each method's own); the constructor's transform only serves callers that ask without one.
        return new CachedTaskFeatures(session.Cache, dataset, split, session.Eval,
            MethodAugmentation.ToSpec(TrainingAugmentation.Fallback, session.ImageSize), cancel);
    }

    static bool IsFeaturesFile(ImageDataset dataset) => dataset.Name == FeaturesDatasetReader.TypeName && File.Exists(dataset.Root);
}
