using Peft.Core;

namespace Peft.Methods.Clap;

/// <summary>
/// Options of CLAP (Silva-Rodríguez et al., "A Closer Look at the Few-Shot Adaptation of Large Vision-Language Models",
/// CVPR 2024). Defaults are the official runs: jusiro/CLAP @dbdf409, scripts/adapt.sh with
/// experiments/experiment_CLAP.txt (config SGD_lr1e-1_B256_ep300, INIT ZS, CONSTRAINT l2), trainers/adapters.py, and
/// Dassl's defaults (KaiyangZhou/Dassl.pytorch dassl/config/defaults.py) for what the config leaves out. The paper's
/// protocol is validation-free: no option is tuned on validation or test, the last epoch is kept.
/// </summary>
public sealed record ClapOptions : IMethodOptions
{
    /// <summary>Penalty towards the zero-shot prototypes: l2 (CLAP: Σ_c λ_c‖w_c − t_c‖² / C, λ_c the zero-shot
    /// class-wise performance on the augmented support set) or none (ZS-LP, the paper's zero-shot-initialised linear
    /// probe) (adapt.sh CONSTRAINT; experiment_CLAP.txt l2, experiment_ZSLP.txt none).</summary>
    public string Constraint { get; init; } = "l2";

    /// <summary>Prompts of the zero-shot prototypes: dataset (CUSTOM_TEMPLATES[dataset], the default) or another template
    /// set; a prototype is the mean of the prompts' unnormalised text features (adapters.py _get_base_text_features).</summary>
    public string Templates { get; init; } = "dataset";

    /// <summary>Training epochs (SGD_lr1e-1_B256_ep300.yaml OPTIM.MAX_EPOCH 300).</summary>
    public int Epochs { get; init; } = 300;

    /// <summary>Mini-batch size (SGD_lr1e-1_B256_ep300.yaml DATALOADER.TRAIN_X.BATCH_SIZE 256). An epoch is as many
    /// batches as Dassl's loader has for the N images (drop_last when N ≥ batch size), drawn from the pool of all views.</summary>
    public int BatchSize { get; init; } = 256;

    /// <summary>SGD learning rate (SGD_lr1e-1_B256_ep300.yaml OPTIM.LR 0.1).</summary>
    public double Lr { get; init; } = 0.1;

    /// <summary>SGD momentum (Dassl OPTIM.MOMENTUM 0.9; the config does not set it).</summary>
    public double Momentum { get; init; } = 0.9;

    /// <summary>SGD weight decay (SGD_lr1e-1_B256_ep300.yaml OPTIM.WEIGHT_DECAY 0.0).</summary>
    public double WeightDecay { get; init; } = 0.0;

    /// <summary>Constant warm-up epochs before the per-epoch cosine (config: WARMUP_EPOCH 1, WARMUP_TYPE constant, LR_SCHEDULER cosine).</summary>
    public int WarmupEpochs { get; init; } = 1;

    /// <summary>Learning rate of the warm-up epochs (config: WARMUP_CONS_LR 1e-5).</summary>
    public double WarmupLr { get; init; } = 1e-5;

    /// <summary>Augmented views per training image, all pooled and reshuffled every epoch (adapters.py AdapterMethod
    /// epochs_aumentation = 20 augmented passes over the support set, extracted once before training).</summary>
    public int AugmentViews { get; init; } = 20;

    public static readonly string[] Constraints = ["l2", "none"];

    public IEnumerable<string> Validate()
    {
        if (!Constraints.Contains(Constraint)) yield return $"constraint must be one of {string.Join(", ", Constraints)}, got '{Constraint}'";
        if (!PromptTemplates.SetNames.Contains(Templates)) yield return $"templates must be one of {string.Join(", ", PromptTemplates.SetNames)}, got '{Templates}'";
        if (Epochs < 1) yield return $"epochs must be >= 1, got {Epochs}";
        foreach (var problem in DasslSchedule.ValidateOptimizer(BatchSize, Lr, Momentum, WeightDecay, WarmupEpochs, WarmupLr)) yield return problem;
        if (double.IsInfinity(Lr)) yield return $"lr must be finite, got {Lr}";
        if (double.IsInfinity(WeightDecay)) yield return $"weightDecay must be finite, got {WeightDecay}";
        if (AugmentViews < 1) yield return $"augmentViews must be >= 1, got {AugmentViews}";
    }
}
