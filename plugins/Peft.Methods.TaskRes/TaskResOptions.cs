using Peft.Core;

namespace Peft.Methods.TaskRes;

/// <summary>
/// Options of TaskRes (Yu et al., "Task Residual for Tuning Vision-Language Models", CVPR 2023). Defaults are the
/// official code's regular-base runs: geekyutao/TaskRes @5195359, train_regular.sh (the configs it names under
/// configs/trainers/TaskRes/) and Dassl's defaults (KaiyangZhou/Dassl.pytorch dassl/config/defaults.py).
/// </summary>
public sealed record TaskResOptions : IMethodOptions
{
    /// <summary>Residual scale α: class weights t + α·x (train_regular.sh: 0.5 on every dataset but Flowers, 1.0 there).</summary>
    public double Scale { get; init; } = 0.5;

    /// <summary>Prompts of the base classifier: dataset (CUSTOM_TEMPLATES[dataset], the default) or another template set;
    /// the base is the mean of the prompts' unnormalised text features (taskres.py _get_base_text_features).</summary>
    public string Templates { get; init; } = "dataset";

    /// <summary>Training epochs; null = train_regular.sh by shots: 1, 2 and 4 shots → 100 (…_ep100), 8 and 16 → 200 (…_ep200).</summary>
    public int? Epochs { get; init; }

    /// <summary>Mini-batch size (configs/trainers/TaskRes/*_B256_*.yaml DATALOADER.TRAIN_X.BATCH_SIZE 256).</summary>
    public int BatchSize { get; init; } = 256;

    /// <summary>Adam learning rate (train_regular.sh: adam_lr2e-3 configs on the ten datasets, adam_lr2e-4 on ImageNet).</summary>
    public double Lr { get; init; } = 2e-3;

    /// <summary>Adam's L2 weight decay on the residual (Dassl OPTIM.WEIGHT_DECAY 5e-4; the configs do not set it).</summary>
    public double WeightDecay { get; init; } = 5e-4;

    /// <summary>Adam β1, β2 (Dassl OPTIM.ADAM_BETA1 0.9, ADAM_BETA2 0.999).</summary>
    public double[] Betas { get; init; } = [0.9, 0.999];

    /// <summary>Constant warm-up epochs before the per-epoch cosine (configs: OPTIM.WARMUP_EPOCH 1, WARMUP_TYPE constant).</summary>
    public int WarmupEpochs { get; init; } = 1;

    /// <summary>Learning rate of the warm-up epochs (configs: OPTIM.WARMUP_CONS_LR 1e-5).</summary>
    public double WarmupLr { get; init; } = 1e-5;

    /// <summary>Cached augmented views cycled through, epoch e training on view e mod V: the stand-in for the configs'
    /// fresh random_resized_crop + random_flip each epoch (as CLIP-Adapter's trainViews).</summary>
    public int TrainViews { get; init; } = 10;

    /// <summary>Which epoch's residual is kept: last (Dassl TEST.FINAL_MODEL last_step, the official) or best-val.</summary>
    public string Select { get; init; } = "last";

    public static readonly string[] Selections = ["last", "best-val"];

    /// <summary>Epochs for a shot count: the explicit value, else train_regular.sh's (100 up to 4 shots, 200 above).</summary>
    public int EpochsFor(int shots) => Epochs ?? (shots <= 4 ? 100 : 200);

    public IEnumerable<string> Validate()
    {
        if (!double.IsFinite(Scale) || Scale < 0) yield return $"scale must be finite and >= 0, got {Scale}";
        if (!PromptTemplates.SetNames.Contains(Templates)) yield return $"templates must be one of {string.Join(", ", PromptTemplates.SetNames)}, got '{Templates}'";
        if (Epochs is < 1) yield return $"epochs must be >= 1, got {Epochs}";
        if (BatchSize < 1) yield return $"batchSize must be >= 1, got {BatchSize}";
        if (!(Lr > 0) || double.IsInfinity(Lr)) yield return $"lr must be positive and finite, got {Lr}";
        if (!(WeightDecay >= 0) || double.IsInfinity(WeightDecay)) yield return $"weightDecay must be finite and >= 0, got {WeightDecay}";
        if (Betas is null || Betas.Length != 2 || Betas.Any(b => !(b >= 0 && b < 1)))
            yield return $"betas must be two values in [0, 1), got [{string.Join(", ", Betas ?? [])}]";
        if (WarmupEpochs < 0) yield return $"warmupEpochs must be >= 0, got {WarmupEpochs}";
        if (!(WarmupLr > 0)) yield return $"warmupLr must be > 0, got {WarmupLr}";
        if (TrainViews < 1) yield return $"trainViews must be >= 1, got {TrainViews}";
        if (!Selections.Contains(Select)) yield return $"select must be one of {string.Join(", ", Selections)}, got '{Select}'";
    }
}
