using Peft.Core;
using Peft.Core.Prompting;

namespace Peft.Methods.KgCoOp;

/// <summary>
/// Options of KgCoOp (Yao et al., "Visual-Language Prompt Tuning with Knowledge-guided Context Optimization", CVPR 2023).
/// Defaults are the official code's: htyao89/KgCoOp @c43ccc3, KgCoOp/trainers/kgcoop.py, configs/trainers/KgCoOp/*.yaml,
/// scripts/run.sh and base2new_train.sh, and Dassl's defaults (Dassl.ProGrad.pytorch dassl/config/defaults.py).
/// </summary>
public sealed record KgCoOpOptions : IMethodOptions, IPromptContextSettings, IPromptTrainingSettings
{
    /// <summary>Weight λ of the regulariser 1 − mean_c cos(w_c, w_c^clip) (scripts/run.sh: base2new_train.sh &lt;dataset&gt; 8.0 → TRAINER.COOP.W 8.0).</summary>
    public double Weight { get; init; } = 8.0;

    /// <summary>Initial context phrase: kgcoop.py replaces any CTX_INIT (the configs set True) with 'a photo of a'; its word count is the context length.</summary>
    public string CtxInit { get; init; } = "a photo of a";

    /// <summary>Context length when <see cref="CtxInit"/> is empty (base2new_train.sh NCTX=4).</summary>
    public int NCtx { get; init; } = 4;

    /// <summary>The hand-crafted prompt whose CLIP text features the regulariser pulls towards; empty = the dataset's template
    /// (kgcoop.py CUSTOM_TEMPLATES, CoOp's except DescribableTextures, see the preset).</summary>
    public string HandcraftedTemplate { get; init; } = "";

    /// <summary>Training epochs (configs/trainers/KgCoOp/*_ep100*.yaml OPTIM.MAX_EPOCH 100).</summary>
    public int Epochs { get; init; } = 100;

    /// <summary>Mini-batch size (configs: DATALOADER.TRAIN_X.BATCH_SIZE 128).</summary>
    public int BatchSize { get; init; } = 128;

    /// <summary>SGD learning rate (configs: OPTIM.LR 0.002).</summary>
    public double Lr { get; init; } = 0.002;

    /// <summary>SGD momentum (Dassl OPTIM.MOMENTUM 0.9).</summary>
    public double Momentum { get; init; } = 0.9;

    /// <summary>L2 weight decay on the context (Dassl OPTIM.WEIGHT_DECAY 5e-4).</summary>
    public double WeightDecay { get; init; } = 5e-4;

    /// <summary>Constant warm-up epochs before the per-epoch cosine (configs: OPTIM.WARMUP_EPOCH 1).</summary>
    public int WarmupEpochs { get; init; } = 1;

    /// <summary>Learning rate during warm-up (configs: OPTIM.WARMUP_CONS_LR 1e-5).</summary>
    public double WarmupLr { get; init; } = 1e-5;

    /// <summary>Cached augmented views cycled through, epoch e on view e mod V (the configs re-augment: random_resized_crop + random_flip).</summary>
    public int TrainViews { get; init; } = 10;

    /// <summary>Classes per text-tower pass (memory only; the gradient is exact for any value).</summary>
    public int ClassChunk { get; init; } = 64;

    /// <summary>Which context is kept: last (Dassl TEST.FINAL_MODEL last_step) or best-val.</summary>
    public string Select { get; init; } = "last";

    /// <summary>kgcoop.py PromptLearner.forward assembles [SOS][ctx][class . EOT] only.</summary>
    public string ClassTokenPosition => "end";

    /// <summary>kgcoop.py: the phrase initialisation gives one shared context.</summary>
    public bool ClassSpecificContext => false;

    public static readonly string[] Selections = ["last", "best-val"];

    public IEnumerable<string> Validate()
    {
        if (!double.IsFinite(Weight) || Weight < 0) yield return $"weight must be finite and >= 0, got {Weight}";
        if (CtxInit.Length == 0 && (NCtx < 1 || NCtx > 70)) yield return $"nCtx must be in [1, 70], got {NCtx}";
        if (HandcraftedTemplate.Length > 0 && !HandcraftedTemplate.Contains("{}"))
            yield return $"handcraftedTemplate must contain '{{}}' for the class name, got '{HandcraftedTemplate}'";
        if (Epochs < 1) yield return $"epochs must be >= 1, got {Epochs}";
        foreach (var problem in DasslSchedule.ValidateOptimizer(BatchSize, Lr, Momentum, WeightDecay, WarmupEpochs, WarmupLr))
            yield return problem;
        if (TrainViews < 1) yield return $"trainViews must be >= 1, got {TrainViews}";
        if (ClassChunk < 1) yield return $"classChunk must be >= 1, got {ClassChunk}";
        if (!Selections.Contains(Select)) yield return $"select must be one of {string.Join(", ", Selections)}, got '{Select}'";
    }
}
