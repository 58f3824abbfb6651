using Microsoft.Extensions.Configuration;

namespace Peft.Core;

/// <summary>A registered method: its name, what it does, its options type, and how to build it from configuration.</summary>
public sealed record MethodDescriptor(string Name, string Description, Type OptionsType, Func<IConfiguration?, IAdaptationMethod> Create)
{
    /// <summary>Lower-case letters, digits, '-', '_' and '.': the name becomes part of MLflow metric keys (which allow no
    /// '+' or other symbols), file names and configuration keys.</summary>
    public string Name { get; init; } = System.Text.RegularExpressions.Regex.IsMatch(Name, "^[a-z0-9][a-z0-9._-]*$")
        ? Name
        : throw new ArgumentException($"method name '{Name}': use lower-case letters, digits, '-', '_' and '.' (it becomes part of MLflow metric keys, file names and configuration keys)");

    /// <summary>
    /// Builds an encoder-level method (<see cref="Encoders.IEncoderAdaptationMethod"/>) from configuration; null for a
    /// feature-level method. For an encoder-level method <see cref="Create"/> is not used.
    /// </summary>
    public Func<IConfiguration?, Encoders.IEncoderAdaptationMethod>? CreateEncoder { get; init; }

    /// <summary>True for a method of the encoder tier (it trains inside the towers; test features are per cell).</summary>
    public bool IsEncoderMethod => CreateEncoder is not null;

    /// <summary>The options with their published defaults (for listings).</summary>
    public object DefaultOptions() => Activator.CreateInstance(OptionsType)!;

    /// <summary>
    /// The transform the official code trains with, i.e. which augmented views <see cref="ITaskFeatures.TrainViews"/>
    /// returns for this method; null for methods that read no augmented views (they get
    /// <see cref="TrainingAugmentation.Fallback"/> if they ask).
    /// </summary>
    public TrainingAugmentation? Augmentation { get; init; }

    /// <summary>Official per-dataset option values (<see cref="OptionPreset"/>), applied for cells of that dataset.</summary>
    public IReadOnlyList<OptionPreset> Presets { get; init; } = [];

    /// <summary>
    /// Option values that reproduce the official selection rules (which may read <see cref="AdaptationContext.Oracle"/>),
    /// applied on top of <see cref="Presets"/> only under the <c>as-published</c> protocol. Dataset <c>*</c> = every dataset
    /// without an entry of its own.
    /// </summary>
    public IReadOnlyList<OptionPreset> AsPublished { get; init; } = [];

    /// <summary>The preset for a dataset type (case-insensitive), or null.</summary>
    public OptionPreset? PresetFor(string datasetType) =>
        Presets.FirstOrDefault(p => string.Equals(p.Dataset, datasetType, StringComparison.OrdinalIgnoreCase));

    /// <summary>The as-published values for a dataset type: its own entry, else the <c>*</c> entry, else null.</summary>
    public OptionPreset? AsPublishedFor(string datasetType) =>
        AsPublished.FirstOrDefault(p => string.Equals(p.Dataset, datasetType, StringComparison.OrdinalIgnoreCase))
        ?? AsPublished.FirstOrDefault(p => p.Dataset == "*");
}
