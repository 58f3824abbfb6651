using Peft.Core;
using Peft.Core.Encoders;

namespace Peft.Methods.BitFit;

/// <summary>
/// Options of BitFit on CLIP. BitFit (Ben Zaken et al., ACL 2022) tunes every bias term of a frozen transformer. On
/// CLIP few-shot it is run as 2SFS runs it (Farina et al., CVPR 2025; KilianLP/CoOpLoraSquared- fs/twostage.py,
/// fs/utils/model_utils.py <c>trainable_bias_params</c>, main.py defaults), with the whole budget given to BitFit: AdamW
/// lr 2e-4, weight decay 1e-2, batch 32, cosine to 1e-6 over M × shots iterations with M = 300, the model's logit scale,
/// the dataset's first template (twostage.py <c>tokenize_texts(template=dataset.template[0], ...)</c>).
/// </summary>
public sealed record BitFitOptions : IEncoderMethodOptions
{
    public bool AdaptsImageTransformer => Towers != "text";

    /// <summary>Which towers: both | vision | text (2SFS <c>--ln_modality</c> default both).</summary>
    public string Towers { get; init; } = "both";

    /// <summary>Also tune the LayerNorm gains γ (BitFit proper tunes biases only, which include the LayerNorm β).</summary>
    public bool Norms { get; init; }

    /// <summary>AdamW learning rate (2SFS <c>--lr</c> = 2e-4), cosine-annealed per iteration to 1e-6.</summary>
    public double Lr { get; init; } = 2e-4;

    /// <summary>AdamW decoupled weight decay (2SFS <c>--wd</c> = 1e-2), acting on the biases themselves.</summary>
    public double WeightDecay { get; init; } = 1e-2;

    /// <summary>Iterations per shot, M (2SFS <c>--n_iters</c> = 300).</summary>
    public int ItersPerShot { get; init; } = 300;

    /// <summary>Training batch size (2SFS <c>--batch_size</c> = 32).</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Gradient checkpointing per transformer block (not in the official code, which trains on GPUs): activations
    /// of one block instead of all are kept for backward, at the cost of a second forward pass; results are unchanged.
    /// For memory-bound runs (larger batches or backbones); off by default, as ViT-B/16 at batch 32 fits in 24 GiB without it.</summary>
    public bool GradientCheckpointing { get; init; }

    static readonly string[] TowerChoices = ["both", "vision", "text"];

    public IEnumerable<string> Validate()
    {
        if (!TowerChoices.Contains(Towers)) yield return $"towers must be one of {string.Join(", ", TowerChoices)}, got '{Towers}'";
        if (!(Lr > 0)) yield return $"lr must be positive, got {Lr}";
        if (!(WeightDecay >= 0)) yield return $"weightDecay must be at least 0, got {WeightDecay}";
        if (ItersPerShot < 1) yield return $"itersPerShot must be at least 1, got {ItersPerShot}";
        if (BatchSize < 1) yield return $"batchSize must be at least 1, got {BatchSize}";
    }
}
