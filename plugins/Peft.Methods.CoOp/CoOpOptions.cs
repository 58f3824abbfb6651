using Peft.Core;
using Peft.Core.Prompting;

namespace Peft.Methods.CoOp;

/// <summary>
/// Options of CoOp. Defaults are the official settings: <c>TRAINER.COOP.*</c> in KaiyangZhou/CoOp
/// (trainers/coop.py, configs/trainers/CoOp/rn50*.yaml), optimiser/scheduler defaults from Dassl (<c>OPTIM.*</c>)
/// and the epochs per shot count from COOP.md.
/// </summary>
public sealed record CoOpOptions : IMethodOptions, IPromptContextSettings, IPromptTrainingSettings
{
    /// <summary>Number of learned context tokens M (<c>TRAINER.COOP.N_CTX</c> = 16). Ignored when <see cref="CtxInit"/> is set.</summary>
    public int NCtx { get; init; } = 16;

    /// <summary>
    /// Initial context phrase (<c>TRAINER.COOP.CTX_INIT</c>; none = random Normal(0, 0.02)). A phrase such as
    /// "a photo of a" (the <c>*_ctxv1</c> configs) sets M to its word count and copies its token embeddings.
    /// </summary>
    public string CtxInit { get; init; } = "";

    /// <summary>Where the class name goes: end | middle | front (<c>TRAINER.COOP.CLASS_TOKEN_POSITION</c> = end).</summary>
    public string ClassTokenPosition { get; init; } = "end";

    /// <summary>Class-specific context, one M×width context per class (<c>TRAINER.COOP.CSC</c> = False).</summary>
    public bool ClassSpecificContext { get; init; }

    /// <summary>Training epochs; none = by shots as in COOP.md: 1 shot → 50, 2 and 4 → 100, 8 and 16 (and more) → 200.</summary>
    public int? Epochs { get; init; }

    /// <summary>Training batch size (<c>DATALOADER.TRAIN_X.BATCH_SIZE</c> = 32).</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>SGD learning rate (<c>OPTIM.LR</c> = 0.002 in configs/trainers/CoOp).</summary>
    public double Lr { get; init; } = 0.002;

    /// <summary>SGD momentum (Dassl default <c>OPTIM.MOMENTUM</c> = 0.9).</summary>
    public double Momentum { get; init; } = 0.9;

    /// <summary>L2 weight decay added to the gradient (Dassl default <c>OPTIM.WEIGHT_DECAY</c> = 5e-4).</summary>
    public double WeightDecay { get; init; } = 5e-4;

    /// <summary>Constant warm-up epochs before the cosine schedule (<c>OPTIM.WARMUP_EPOCH</c> = 1, <c>WARMUP_TYPE</c> constant).</summary>
    public int WarmupEpochs { get; init; } = 1;

    /// <summary>Learning rate during warm-up (<c>OPTIM.WARMUP_CONS_LR</c> = 1e-5).</summary>
    public double WarmupLr { get; init; } = 1e-5;

    /// <summary>
    /// Cached augmented views per training image (this framework's feature cache). Epoch e uses view e mod V; the
    /// official code augments afresh every epoch (RandomResizedCrop + flip), which for V ≥ epochs is the same
    /// distribution, and for fewer views cycles through V fixed draws.
    /// </summary>
    public int TrainViews { get; init; } = 10;

    /// <summary>Classes run through the text tower per chunk (bounds memory; the gradient is exact for any value).</summary>
    public int ClassChunk { get; init; } = 64;

    /// <summary>Which context to keep: last (Dassl <c>TEST.FINAL_MODEL</c> = last_step) or best-val (accuracy on the validation split after each epoch).</summary>
    public string Select { get; init; } = "last";

    public static readonly string[] Positions = ["end", "middle", "front"];
    /// <summary>
    /// Training arithmetic: <c>fp32</c> (default) or <c>bf16</c> (<see cref="Peft.Core.Optimization.TrainingPrecision"/>:
    /// the text tower's forward and backward passes on a bf16 copy of it, the context vectors and SGD state in fp32; the
    /// returned classifier's text features from the fp32 tower). The official default is fp16 (train.py
    /// <c>TRAINER.COOP.PREC = "fp16"</c>, on a GPU); our fp32 is its <c>PREC "fp32"</c>, our bf16 the CPU counterpart of its
    /// <c>PREC "amp"</c> (fp32 weights, autocast).
    /// </summary>
    public string Precision { get; init; } = "fp32"; // trainers/coop.py: PREC fp16 | fp32 | amp; fp32 on a CPU

    public static readonly string[] Selections = ["last", "best-val"];

    /// <summary>Epochs used for <paramref name="shots"/> shots.</summary>
    public int EpochsFor(int shots) => Epochs ?? DasslSchedule.EpochsForShots(shots);

    public IEnumerable<string> Validate()
    {
        if (NCtx < 1 || NCtx > 70) yield return $"nCtx must be in [1, 70], got {NCtx}";
        if (!Positions.Contains(ClassTokenPosition))
            yield return $"classTokenPosition must be one of {string.Join(", ", Positions)}, got '{ClassTokenPosition}'";
        if (Epochs is < 1) yield return $"epochs must be ≥ 1, or left out for the schedule by shots; got {Epochs}";
        foreach (var problem in DasslSchedule.ValidateOptimizer(BatchSize, Lr, Momentum, WeightDecay, WarmupEpochs, WarmupLr))
            yield return problem;
        if (TrainViews < 1) yield return $"trainViews must be ≥ 1, got {TrainViews}";
        if (ClassChunk < 1) yield return $"classChunk must be ≥ 1, got {ClassChunk}";
        if (!Selections.Contains(Select)) yield return $"select must be one of {string.Join(", ", Selections)}, got '{Select}'";
        if (Peft.Core.Optimization.TrainingPrecision.Problem(Precision) is { } precision) yield return precision;
    }
}
