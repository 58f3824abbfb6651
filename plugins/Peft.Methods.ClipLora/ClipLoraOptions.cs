using Peft.Core;
using Peft.Core.Encoders;

namespace Peft.Methods.ClipLora;

/// <summary>
/// Options of CLIP-LoRA. Defaults are the official settings: run_utils.py's arguments and lora.py's optimiser in
/// MaxZanella/CLIP-LoRA (358f0d7), scaling alpha/√r from loralib/layers.py.
/// </summary>
public sealed record ClipLoraOptions : IEncoderMethodOptions
{
    /// <summary>Image-tower LoRA needs its attention blocks: a ModifiedResNet backbone takes encoder 'text' only.</summary>
    public bool AdaptsImageTransformer => Encoder != "text";

    /// <summary>Rank r of the low-rank matrices (<c>--r</c> = 2).</summary>
    public int Rank { get; init; } = 2;

    /// <summary>LoRA alpha; the update is scaled by alpha/√r (<c>--alpha</c> = 1; loralib's <c>scaling</c>).</summary>
    public double Alpha { get; init; } = 1;

    /// <summary>Dropout applied to the input of the LoRA branch only, while training (<c>--dropout_rate</c> = 0.25).</summary>
    public double Dropout { get; init; } = 0.25;

    /// <summary>Which towers get LoRA: both | vision | text (<c>--encoder</c> = both).</summary>
    public string Encoder { get; init; } = "both";

    /// <summary>Which blocks: all | bottom | mid | up | half-up | half-bottom | top3 (<c>--position</c> = all; block lists of
    /// loralib/utils.py for 12-block towers; towers of another depth accept all, half-up and half-bottom).</summary>
    public string Position { get; init; } = "all";

    /// <summary>Which attention projections: any of q, k, v, o (<c>--params</c> = q k v).</summary>
    public IReadOnlyList<string> Params { get; init; } = ["q", "k", "v"];

    /// <summary>AdamW learning rate (<c>--lr</c> = 2e-4), cosine-annealed to 1e-6 over the run (lora.py).</summary>
    public double Lr { get; init; } = 2e-4;

    /// <summary>AdamW weight decay (lora.py: 1e-2).</summary>
    public double WeightDecay { get; init; } = 1e-2;

    /// <summary>Iterations per shot: the run takes ItersPerShot × shots batches (<c>--n_iters</c> = 500).</summary>
    public int ItersPerShot { get; init; } = 500;

    /// <summary>Training batch size (<c>--batch_size</c> = 32).</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Gradient checkpointing per transformer block (not in the official code, which trains on GPUs): activations
    /// of one block instead of all are kept for backward, at the cost of a second forward pass; results are unchanged.
    /// For memory-bound runs (larger batches or backbones); off by default, as ViT-B/16 at batch 32 fits in 24 GiB without it.</summary>
    public bool GradientCheckpointing { get; init; }

    /// <summary>Logit scale of the training loss and the classifier (main.py: <c>logit_scale = 100</c>, not the model's own).</summary>
    public double LogitScale { get; init; } = 100;

    static readonly string[] Encoders = ["both", "vision", "text"];
    internal static readonly string[] Positions = ["all", "bottom", "mid", "up", "half-up", "half-bottom", "top3"];
    static readonly string[] Projections = ["q", "k", "v", "o"];

    public IEnumerable<string> Validate()
    {
        if (Rank < 1) yield return $"rank must be at least 1, got {Rank}";
        if (!(Alpha > 0)) yield return $"alpha must be positive, got {Alpha}";
        if (!(Dropout >= 0 && Dropout < 1)) yield return $"dropout must be in [0, 1), got {Dropout}";
        if (!Encoders.Contains(Encoder)) yield return $"encoder must be one of {string.Join(", ", Encoders)}, got '{Encoder}'";
        if (!Positions.Contains(Position)) yield return $"position must be one of {string.Join(", ", Positions)}, got '{Position}'";
        if (Params.Count == 0) yield return "params must name at least one of q, k, v, o";
        foreach (var p in Params.Where(p => !Projections.Contains(p))) yield return $"params: '{p}' is not one of q, k, v, o";
        if (Params.Distinct().Count() != Params.Count) yield return $"params names a projection twice: {string.Join(", ", Params)}";
        if (!(Lr > 0)) yield return $"lr must be positive, got {Lr}";
        if (!(WeightDecay >= 0)) yield return $"weightDecay must be at least 0, got {WeightDecay}";
        if (ItersPerShot < 1) yield return $"itersPerShot must be at least 1, got {ItersPerShot}";
        if (BatchSize < 1) yield return $"batchSize must be at least 1, got {BatchSize}";
        if (!(LogitScale > 0)) yield return $"logitScale must be positive, got {LogitScale}";
    }
}
