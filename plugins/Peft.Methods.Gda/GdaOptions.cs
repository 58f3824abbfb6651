using Peft.Core;

namespace Peft.Methods.Gda;

/// <summary>
/// Options of GDA (Wang et al., "A Hard-to-Beat Baseline for Training-free CLIP-based Adaptation", ICLR 2024). Defaults
/// are the official code's: mrflogs/ICLR24 @560fe21, main_few_shots.py and configs/few_shots/*.yaml.
/// </summary>
public sealed record GdaOptions : IMethodOptions
{
    /// <summary>Augmented views per training image whose (normalised) features estimate the class means and the shared
    /// covariance (configs/few_shots/*.yaml augment_epoch: 10).</summary>
    public int AugmentViews { get; init; } = 10;

    /// <summary>Prompts of the zero-shot classifier: dataset (the dataset's template, datasets/*.py) or ensemble7
    /// (ImageNet's 7 templates, datasets/imagenet.py; the ImageNet preset).</summary>
    public string Templates { get; init; } = "dataset";

    /// <summary>Scale of the zero-shot logits (main_few_shots.py: 100. * features @ clip_weights).</summary>
    public double LogitScale { get; init; } = 100;

    /// <summary>Weights α of the GDA logits searched on validation, in order, the first of equals kept
    /// (main_few_shots.py: [0.0001, 0.001, 0.01, 0.1, 1.0, 10.0, 100.0]).</summary>
    public double[] AlphaGrid { get; init; } = [0.0001, 0.001, 0.01, 0.1, 1.0, 10.0, 100.0];

    /// <summary>α when no grid value is right on any validation image, and when there are no validation features
    /// (main_few_shots.py: best_alpha = 0.1 before the search).</summary>
    public double InitAlpha { get; init; } = 0.1;

    /// <summary>A fixed α: skips the search (not in the official code; for ablations).</summary>
    public double? Alpha { get; init; }

    /// <summary>Which features α is searched on: val (the cell's few-shot validation split, default), full-val or test
    /// (main_few_shots.py uses the dataset's val split, and the test set for ImageNet); the last two need the
    /// as-published protocol.</summary>
    public string SearchOn { get; init; } = "val";

    public static readonly string[] TemplateSets = ["dataset", "ensemble7"];
    public static readonly string[] SearchSplits = ["val", "full-val", "test"];

    public bool UsesOracle => Alpha is null && SearchOn != "val";

    public IEnumerable<string> Validate()
    {
        if (AugmentViews < 1) yield return $"augmentViews must be at least 1, got {AugmentViews}";
        if (!TemplateSets.Contains(Templates)) yield return $"templates must be one of {string.Join(", ", TemplateSets)}, got '{Templates}'";
        if (!(LogitScale > 0) || double.IsInfinity(LogitScale)) yield return $"logitScale must be positive and finite, got {LogitScale}";
        if (AlphaGrid is null || AlphaGrid.Length == 0) yield return "alphaGrid must hold at least one value";
        else if (AlphaGrid.Any(a => !double.IsFinite(a) || a < 0)) yield return $"alphaGrid values must be finite and >= 0, got [{string.Join(", ", AlphaGrid)}]";
        if (!double.IsFinite(InitAlpha) || InitAlpha < 0) yield return $"initAlpha must be finite and >= 0, got {InitAlpha}";
        if (Alpha is { } a && (!double.IsFinite(a) || a < 0)) yield return $"alpha must be finite and >= 0, got {a}";
        if (!SearchSplits.Contains(SearchOn)) yield return $"searchOn must be one of {string.Join(", ", SearchSplits)}, got '{SearchOn}'";
    }
}
