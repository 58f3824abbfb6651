using Peft.Core;

namespace Peft.Methods.ClipAdapter;

/// <summary>Options of CLIP-Adapter. Defaults are the released code's (clip_adapter.py) and CoOp's Dassl configs it is run with.</summary>
public sealed record ClipAdapterOptions : IMethodOptions
{
    /// <summary>Bottleneck reduction r: hidden width D / r. Source: clip_adapter.py <c>Adapter(1024, 4)</c>.</summary>
    public int Reduction { get; init; } = 4; // clip_adapter.py: Adapter(c_in, reduction=4)

    /// <summary>Residual ratio α: f' = α·A(f) + (1 − α)·f. Source: clip_adapter.py <c>ratio = 0.2</c> (the ImageNet value).</summary>
    public double Alpha { get; init; } = 0.2; // clip_adapter.py: ratio = 0.2

    /// <summary>
    /// Where adapters go: <c>visual</c> (image features; the released code, the default), <c>text</c> (the class
    /// weights; paper ablation) or <c>both</c> (paper ablation). The same α blends both sides.
    /// </summary>
    public string Branch { get; init; } = "visual"; // clip_adapter.py: only CustomCLIP.adapter on image_features

    /// <summary>
    /// Prompts for the frozen text side: <c>dataset</c> = the dataset's single template (clip_adapter.py
    /// CUSTOM_TEMPLATES, the default); <c>ensemble7</c>, <c>dataset+ensemble7</c>, <c>ensemble80</c> as in zero-shot.
    /// </summary>
    public string Templates { get; init; } = "dataset"; // clip_adapter.py: TextEncoder uses CUSTOM_TEMPLATES[dataset]

    /// <summary>Training epochs; null = CoOp's configs by shots: 1 → 50, 2 and 4 → 100, 8 and 16 → 200.</summary>
    public int? Epochs { get; init; } // CoOp COOP.md run commands (rn50_ep50 / rn50_ep100 / rn50)

    /// <summary>Mini-batch size. Source: CoOp configs DATALOADER.TRAIN_X.BATCH_SIZE 32.</summary>
    public int BatchSize { get; init; } = 32; // CoOp configs/trainers/CoOp/rn50*.yaml

    /// <summary>Base learning rate of SGD. Source: CoOp configs OPTIM.LR 0.002.</summary>
    public double Lr { get; init; } = 0.002; // CoOp configs/trainers/CoOp/rn50*.yaml

    /// <summary>SGD momentum. Source: Dassl default OPTIM.MOMENTUM 0.9.</summary>
    public double Momentum { get; init; } = 0.9; // Dassl dassl/config/defaults.py

    /// <summary>SGD weight decay (on all adapter weights). Source: Dassl default OPTIM.WEIGHT_DECAY 5e-4.</summary>
    public double WeightDecay { get; init; } = 5e-4; // Dassl dassl/config/defaults.py

    /// <summary>Constant warm-up epochs before the cosine. Source: CoOp configs OPTIM.WARMUP_EPOCH 1.</summary>
    public int WarmupEpochs { get; init; } = 1; // CoOp configs/trainers/CoOp/rn50*.yaml

    /// <summary>Learning rate during warm-up. Source: CoOp configs OPTIM.WARMUP_CONS_LR 1e-5.</summary>
    public double WarmupLr { get; init; } = 1e-5; // CoOp configs/trainers/CoOp/rn50*.yaml

    /// <summary>
    /// Cached augmented views cycled through: epoch e trains on view (e mod V) of every image. This is the default
    /// stand-in for the released code's fresh Dassl random crop + flip each epoch; 1 = no augmentation variety.
    /// </summary>
    public int TrainViews { get; init; } = 10; // our feature cache: 10 augmented views (as Tip-Adapter's cache)

    /// <summary>Which epoch's adapter is returned: <c>last</c> (Dassl TEST.FINAL_MODEL last_step, the default) or <c>best-val</c>.</summary>
    public string Select { get; init; } = "last"; // Dassl default TEST.FINAL_MODEL = "last_step"

    /// <summary>
    /// Training arithmetic: <c>fp32</c> (default) or <c>bf16</c> (<see cref="Peft.Core.Optimization.TrainingPrecision"/>:
    /// the adapter's and the logits' products in bf16, the adapter weights and SGD state in fp32; evaluated in fp32).
    /// The released code trains in CLIP's dtype, fp16 on its GPU; ours defaults to fp32, the dtype of a CPU run of it.
    /// </summary>
    public string Precision { get; init; } = "fp32"; // clip_adapter.py: Adapter(...).to(clip_model.dtype), fp32 on a CPU

    public static readonly string[] Branches = ["visual", "text", "both"];
    public static readonly string[] Selections = ["last", "best-val"];

    /// <summary>Epochs for a shot count: the explicit value, else CoOp's by shots (<see cref="DasslSchedule.EpochsForShots"/>).</summary>
    public int EpochsFor(int shots) => Epochs ?? DasslSchedule.EpochsForShots(shots);

    public IEnumerable<string> Validate()
    {
        if (Reduction < 1) yield return $"reduction must be ≥ 1, got {Reduction}";
        if (!(Alpha >= 0 && Alpha <= 1)) yield return $"alpha must be in [0, 1], got {Alpha}";
        if (!Branches.Contains(Branch)) yield return $"branch must be one of {string.Join(", ", Branches)}, got '{Branch}'";
        if (!PromptTemplates.SetNames.Contains(Templates)) yield return $"templates must be one of {string.Join(", ", PromptTemplates.SetNames)}, got '{Templates}'";
        if (Epochs is < 1) yield return $"epochs must be ≥ 1, got {Epochs}";
        foreach (var problem in DasslSchedule.ValidateOptimizer(BatchSize, Lr, Momentum, WeightDecay, WarmupEpochs, WarmupLr))
            yield return problem;
        if (TrainViews < 1) yield return $"trainViews must be ≥ 1, got {TrainViews}";
        if (!Selections.Contains(Select)) yield return $"select must be one of {string.Join(", ", Selections)}, got '{Select}'";
        if (Peft.Core.Optimization.TrainingPrecision.Problem(Precision) is { } precision) yield return precision;
    }
}
