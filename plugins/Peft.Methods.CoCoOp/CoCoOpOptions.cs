using Peft.Core;
using Peft.Core.Prompting;

namespace Peft.Methods.CoCoOp;

/// <summary>
/// Options of CoCoOp (Zhou et al., "Conditional Prompt Learning for Vision-Language Models", CVPR 2022). Defaults are the
/// official code's: KaiyangZhou/CoOp @ff61507 trainers/cocoop.py and configs/trainers/CoCoOp/vit_b16_c4_ep10_batch1_ctxv1.yaml
/// (the COCOOP.md setting), with Dassl's defaults.
/// </summary>
public sealed record CoCoOpOptions : IMethodOptions, IPromptContextSettings
{
    /// <summary>Initial context phrase (config TRAINER.COCOOP.CTX_INIT "a photo of a"); empty = N_CTX random vectors N(0, 0.02²).</summary>
    public string CtxInit { get; init; } = "a photo of a";

    /// <summary>Context length without a phrase (config TRAINER.COCOOP.N_CTX 4).</summary>
    public int NCtx { get; init; } = 4;

    /// <summary>Training epochs (config OPTIM.MAX_EPOCH 10).</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>Images per step (config DATALOADER.TRAIN_X.BATCH_SIZE 1): every image has its own prompts.</summary>
    public int BatchSize { get; init; } = 1;

    /// <summary>SGD learning rate (config OPTIM.LR 0.002).</summary>
    public double Lr { get; init; } = 0.002;

    /// <summary>SGD momentum (Dassl OPTIM.MOMENTUM 0.9).</summary>
    public double Momentum { get; init; } = 0.9;

    /// <summary>L2 weight decay on the context and the meta-net (Dassl OPTIM.WEIGHT_DECAY 5e-4).</summary>
    public double WeightDecay { get; init; } = 5e-4;

    /// <summary>Constant warm-up epochs before the per-epoch cosine (config OPTIM.WARMUP_EPOCH 1).</summary>
    public int WarmupEpochs { get; init; } = 1;

    /// <summary>Learning rate during warm-up (config OPTIM.WARMUP_CONS_LR 1e-5).</summary>
    public double WarmupLr { get; init; } = 1e-5;

    /// <summary>Cached augmented views cycled through, epoch e on view e mod V (the config re-augments: random_resized_crop + random_flip).</summary>
    public int TrainViews { get; init; } = 10;

    /// <summary>Prompts (images × classes) per text-tower pass when classifying; memory only, the logits are the same.</summary>
    public int PromptsPerPass { get; init; } = 4096;

    /// <summary>Which epoch is kept: last (Dassl TEST.FINAL_MODEL last_step) or best-val.</summary>
    public string Select { get; init; } = "last";

    /// <summary>cocoop.py builds [SOS][ctx + π(x)][class . EOT] only.</summary>
    public string ClassTokenPosition => "end";

    /// <summary>cocoop.py has one shared context.</summary>
    public bool ClassSpecificContext => false;

    public static readonly string[] Selections = ["last", "best-val"];

    public IEnumerable<string> Validate()
    {
        if (CtxInit.Length == 0 && (NCtx < 1 || NCtx > 70)) yield return $"nCtx must be in [1, 70], got {NCtx}";
        if (Epochs < 1) yield return $"epochs must be >= 1, got {Epochs}";
        foreach (var problem in DasslSchedule.ValidateOptimizer(BatchSize, Lr, Momentum, WeightDecay, WarmupEpochs, WarmupLr))
            yield return problem;
        if (TrainViews < 1) yield return $"trainViews must be >= 1, got {TrainViews}";
        if (PromptsPerPass < 1) yield return $"promptsPerPass must be >= 1, got {PromptsPerPass}";
        if (!Selections.Contains(Select)) yield return $"select must be one of {string.Join(", ", Selections)}, got '{Select}'";
    }
}
