using Peft.Core;
using Peft.Core.Encoders;

namespace Peft.Methods.Vpt;

/// <summary>
/// Options of VPT on CLIP's image tower. Defaults are the MaPLe repository's VPT baseline (muzairkhattak/
/// multimodal-prompt-learning @ 69bce21, configs/trainers/VPT/vit_b16_c2_ep5_batch4_4.yaml, trainers/vpt.py) with
/// Dassl's optimiser defaults (momentum 0.9, weight decay 5e-4).
/// </summary>
public sealed record VptOptions : IEncoderMethodOptions
{
    /// <summary>Prompts live in the image tower's transformer blocks: a ModifiedResNet has none.</summary>
    public bool AdaptsImageTransformer => true;

    /// <summary>Prompt tokens per layer (<c>TRAINER.VPT.N_CTX_VISION</c> = 8).</summary>
    public int NCtx { get; init; } = 8;

    /// <summary>Blocks with their own prompts (<c>PROMPT_DEPTH_VISION</c> = 12: deep VPT); 1 = shallow VPT (prompts
    /// only at the input). A depth beyond the tower's blocks means every block, as the official Transformer builds it.</summary>
    public int Depth { get; init; } = 12;

    /// <summary>Standard deviation of the prompts' initial Normal draw (clip/model.py: <c>nn.init.normal_(ctx_vectors, std=0.02)</c>).</summary>
    public double InitStd { get; init; } = 0.02;

    /// <summary>Fixed class prompt: this prefix, the class name and "." (trainers/vpt.py <c>FixedEmbeddings</c>).</summary>
    public string PromptPrefix { get; init; } = "a photo of a";

    /// <summary>Training epochs (<c>OPTIM.MAX_EPOCH</c> = 5).</summary>
    public int Epochs { get; init; } = 5;

    /// <summary>Batch size (<c>DATALOADER.TRAIN_X.BATCH_SIZE</c> = 4).</summary>
    public int BatchSize { get; init; } = 4;

    /// <summary>Gradient checkpointing per transformer block (not in the official code, which trains on GPUs): activations
    /// of one block instead of all are kept for backward, at the cost of a second forward pass; results are unchanged.
    /// For memory-bound runs (larger batches or backbones); off by default, as ViT-B/16 at batch 32 fits in 24 GiB without it.</summary>
    public bool GradientCheckpointing { get; init; }

    /// <summary>SGD learning rate (<c>OPTIM.LR</c> = 0.0025), per-epoch cosine after the warm-up.</summary>
    public double Lr { get; init; } = 0.0025;

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
        if (Depth < 1) yield return $"depth must be at least 1 (1 = shallow VPT), got {Depth}";
        if (!(InitStd > 0)) yield return $"initStd must be positive, got {InitStd}";
        if (Epochs < 1) yield return $"epochs must be at least 1, got {Epochs}";
        foreach (var p in DasslSchedule.ValidateOptimizer(BatchSize, Lr, Momentum, WeightDecay, WarmupEpochs, WarmupLr)) yield return p;
    }
}
