using Peft.Core;

namespace Peft.Methods.LpPlusPlus;

/// <summary>
/// Options of LP++ (Huang et al., "LP++: A Surprisingly Strong Linear Probe for Few-Shot CLIP", CVPR 2024). Defaults
/// are the official code's: FereshteShakeri/FewShot-CLIP-Strong-Baseline @f81054f, methods/linear_probe_p2.py,
/// main.py and configs/base.yaml. The step sizes and the initialisation are computed from the data (no option).
/// </summary>
public sealed record LpPlusPlusOptions : IMethodOptions
{
    /// <summary>Full-batch training epochs (configs/base.yaml train_epoch: 300).</summary>
    public int Epochs { get; init; } = 300;

    /// <summary>The class multipliers α take a step every this many epochs, with the gradient accumulated since the
    /// start (linear_probe_p2.py: <c>if (epoch + 1) % 10 == 0</c>; α's gradient is never zeroed).</summary>
    public int AlphaEvery { get; init; } = 10;

    /// <summary>Which epoch's classifier is returned: best-val (the last epoch with the best accuracy on the cell's
    /// validation split, as linear_probe_p2.py's <c>acc_val &gt;= best_acc</c>, the default) or last.</summary>
    public string Select { get; init; } = "best-val";

    /// <summary>Training features: augmented (one augmented view per image, as main.py's train_loader encodes the
    /// training set once through train_tranform, the default) or plain (the evaluation transform).</summary>
    public string TrainFeatures { get; init; } = "augmented";

    /// <summary>Prompts of the text embeddings: dataset (the dataset's template, datasets/*.py; the default) or
    /// ensemble7 (datasets/imagenet.py imagenet_templates; the ImageNet preset), or another set zero-shot knows.</summary>
    public string Templates { get; init; } = "dataset";

    public static readonly string[] Selections = ["best-val", "last"];
    public static readonly string[] TrainFeatureKinds = ["augmented", "plain"];

    public IEnumerable<string> Validate()
    {
        if (Epochs < 1) yield return $"epochs must be ≥ 1, got {Epochs}";
        if (AlphaEvery < 1) yield return $"alphaEvery must be ≥ 1, got {AlphaEvery}";
        if (!Selections.Contains(Select)) yield return $"select must be one of {string.Join(", ", Selections)}, got '{Select}'";
        if (!TrainFeatureKinds.Contains(TrainFeatures)) yield return $"trainFeatures must be one of {string.Join(", ", TrainFeatureKinds)}, got '{TrainFeatures}'";
        if (!PromptTemplates.SetNames.Contains(Templates)) yield return $"templates must be one of {string.Join(", ", PromptTemplates.SetNames)}, got '{Templates}'";
    }
}
