using Peft.Results;
namespace Peft.Host.Experiments;

/// <summary>
/// A validated experiment: the grid dataset × shots × seed × method (× hyperparameter point) and where it runs.
/// Paths are absolute. Built by <see cref="ExperimentReader"/>.
/// </summary>
public sealed record ExperimentSpec
{
    public required string Name { get; init; }
    public string Description { get; init; } = "";
    /// <summary>The experiment file (absolute).</summary>
    public required string SourcePath { get; init; }
    public required BackboneSpec Backbone { get; init; }
    public required IReadOnlyList<DatasetSpec> Datasets { get; init; }
    public required IReadOnlyList<int> Shots { get; init; }
    public required IReadOnlyList<int> Seeds { get; init; }
    public string Sampling { get; init; } = "dassl";
    /// <summary>Validation images per class; null = min(shots, 4) (Dassl), 0 = the whole validation split.</summary>
    public int? ValShots { get; init; }
    /// <summary>Augmented training views cached per image (methods may ask for fewer).</summary>
    public int TrainViews { get; init; } = 10;
    /// <summary>
    /// Training transform setting: <c>official</c> (each method's own, the default), or a transform name (<c>tip</c>:
    /// RandomResizedCrop scale 0.5–1, <c>dassl</c>: 0.08–1) forced on every method. <see cref="AugmentationByMethod"/>
    /// forces one per method instead; <see cref="AugmentationOf"/> resolves both.
    /// </summary>
    public string Augmentation { get; init; } = "official";
    /// <summary>Per-method transform names (the object form of <c>augmentation</c>); methods not listed use their official one.</summary>
    public IReadOnlyDictionary<string, string> AugmentationByMethod { get; init; } = new Dictionary<string, string>();
    /// <summary><see cref="ExperimentProtocol.FewShot"/> (default) or <see cref="ExperimentProtocol.AsPublished"/>.</summary>
    public string Protocol { get; init; } = ExperimentProtocol.FewShot;
    public bool IsAsPublished => Protocol == ExperimentProtocol.AsPublished;
    /// <summary><see cref="ExperimentClasses.All"/> (default) or <see cref="ExperimentClasses.BaseToNew"/> (CoCoOp's protocol).</summary>
    public string Classes { get; init; } = ExperimentClasses.All;
    public bool IsBaseToNew => Classes == ExperimentClasses.BaseToNew;
    /// <summary>Methods in name order.</summary>
    public required IReadOnlyList<MethodSpec> Methods { get; init; }
    /// <summary>Methods (with a grid) whose every grid point is also evaluated on test for the ablation view; never used for selection.</summary>
    public IReadOnlySet<string> Ablation { get; init; } = new HashSet<string>();
    public required TrackingSpec Tracking { get; init; }
    /// <summary>Local results (<c>results/</c>), cell state (<c>state/</c>).</summary>
    public required string OutputDir { get; init; }
    /// <summary>Feature cache (<c>features/</c>) and split manifests (<c>splits/</c>), shareable between experiments and machines.</summary>
    public required string CacheDir { get; init; }

    public string ResultsDir => Path.Combine(OutputDir, "results");
    public string StateDir => Path.Combine(OutputDir, "state");

    /// <summary>The training transform method <paramref name="name"/> gets in this experiment (what its <c>TrainViews</c> returns).</summary>
    public MethodAugmentation AugmentationOf(string name)
    {
        var method = Method(name);
        var forced = AugmentationByMethod.FirstOrDefault(kv => string.Equals(kv.Key, method.Name, StringComparison.OrdinalIgnoreCase)).Value
                     ?? (Augmentation == "official" ? null : Augmentation);
        if (forced is not null)
            return new MethodAugmentation(method.Name, Peft.Core.TrainingAugmentation.Find(forced)
                ?? throw new InvalidOperationException($"augmentation '{forced}' is not a known transform"), "experiment");
        return method.Descriptor.Augmentation is { } own
            ? new MethodAugmentation(method.Name, own, "official")
            : new MethodAugmentation(method.Name, Peft.Core.TrainingAugmentation.Fallback, "fallback");
    }

    public MethodSpec Method(string name) => Methods.First(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase));
    public DatasetSpec Dataset(string name) => Datasets.First(d => d.Name == name);
}
