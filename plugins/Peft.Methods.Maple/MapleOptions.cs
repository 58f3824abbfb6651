using Peft.Core;
using Peft.Core.Encoders;

namespace Peft.Methods.Maple;

/// <summary>
/// Options of MaPLe. Defaults are the official settings (muzairkhattak/multimodal-prompt-learning @ 69bce21,
/// configs/trainers/MaPLe/vit_b16_c2_ep5_batch4_2ctx.yaml, trainers/maple.py) with Dassl's optimiser defaults.
/// </summary>
public sealed record MapleOptions : IEncoderMethodOptions
{
    /// <summary>The image tower's prompts live in its transformer blocks: a ModifiedResNet has none.</summary>
    public bool AdaptsImageTransformer => true;

    /// <summary>Learned context tokens per layer, shared by both towers through projections (<c>TRAINER.MAPLE.N_CTX</c> = 2).</summary>
    public int NCtx { get; init; } = 2;

    /// <summary>
    /// Initial context phrase (<c>CTX_INIT</c> = "a photo of a"). With NCtx ≤ 4 the context starts as the embeddings of
    /// its first NCtx tokens and the class prompts are "{phrase} {class}." with those tokens learned (the rest of the
    /// phrase stays fixed, as the official code builds it); empty or NCtx > 4: Normal(0, 0.02) context, prompts "X … X {class}.".
    /// </summary>
    public string CtxInit { get; init; } = "a photo of a";

    /// <summary>Layers with prompts (<c>PROMPT_DEPTH</c> = 9): the input's plus a compound prompt per block 1..depth−1 in
    /// both towers. A depth beyond the towers' blocks is an error.</summary>
    public int Depth { get; init; } = 9;

    /// <summary>Prompts go into blocks 0..Depth−1 of both towers.</summary>
    public int BlocksNeeded => Depth;

    /// <summary>Training epochs (<c>OPTIM.MAX_EPOCH</c> = 5).</summary>
    public int Epochs { get; init; } = 5;

    /// <summary>Batch size (<c>DATALOADER.TRAIN_X.BATCH_SIZE</c> = 4).</summary>
    public int BatchSize { get; init; } = 4;

    /// <summary>Gradient checkpointing per transformer block (not in the official code, which trains on GPUs): activations
    /// of one block instead of all are kept for backward, at the cost of a second forward pass; results are unchanged.
    /// For memory-bound runs (larger batches or backbones); off by default, as ViT-B/16 at batch 32 fits in 24 GiB without it.</summary>
    public bool GradientCheckpointing { get; init; }

    /// <summary>SGD learning rate (<c>OPTIM.LR</c> = 0.0035), per-epoch cosine after the warm-up.</summary>
    public double Lr { get; init; } = 0.0035;

    /// <summary>SGD momentum (Dassl default 0.9).</summary>
    public double Momentum { get; init; } = 0.9;

    /// <summary>L2 weight decay added to the gradient (Dassl default 5e-4).</summary>
    public double WeightDecay { get; init; } = 5e-4;

    /// <summary>Constant warm-up epochs (<c>OPTIM.WARMUP_EPOCH</c> = 1).</summary>
    public int WarmupEpochs { get; init; } = 1;

    /// <summary>Warm-up learning rate (<c>OPTIM.WARMUP_CONS_LR</c> = 1e-5).</summary>
    public double WarmupLr { get; init; } = 1e-5;

    public IEnumerable<string> Validate()
    {
        if (NCtx < 1) yield return $"nCtx must be at least 1, got {NCtx}";
        if (Depth < 1) yield return $"depth must be at least 1, got {Depth}";
        if (Epochs < 1) yield return $"epochs must be at least 1, got {Epochs}";
        foreach (var p in DasslSchedule.ValidateOptimizer(BatchSize, Lr, Momentum, WeightDecay, WarmupEpochs, WarmupLr)) yield return p;
    }
}
