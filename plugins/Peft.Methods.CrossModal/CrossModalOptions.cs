using System.Globalization;
using Peft.Core;

namespace Peft.Methods.CrossModal;

/// <summary>
/// Options of cross-modal adaptation (Lin et al., "Multimodality Helps Unimodality: Cross-Modal Few-Shot Learning with
/// Multimodal Models", CVPR 2023), linear-probe setting. Defaults are the published run: linzhiqiu/cross_modal_adaptation
/// @ac9077e <c>linear_probe.sh</c> (modality cross_modal, head linear, init random, logit 4.60517, hyperparams linear,
/// text augmentation hand_crafted, image augmentation flip with 1 view) and <c>engine/optimizer/default.py</c>
/// <c>HYPER_DICT['linear']</c>; the grid point is chosen on few-shot validation as <c>eval.py</c> does.
/// </summary>
public sealed record CrossModalOptions : IMethodOptions
{
    /// <summary>cross-modal: half of every batch (int(batch·0.5)) are the class prompts' text features, the other half
    /// image features (train.py CROSS_MODAL_BATCH_RATIO = 0.5; linear_probe.sh MODALITIES cross_modal); uni-modal: images
    /// only (the paper's uni-modal baseline, train.py --modality uni_modal).</summary>
    public string Modality { get; init; } = "cross-modal";

    /// <summary>Head initialisation: random (nn.Linear's kaiming-uniform, U(−1/√D, 1/√D), drawn from the cell's generator;
    /// linear_probe.sh INITS random) or zeroshot (the normalised mean of each class's prompt features, head.py
    /// get_zero_shot_weights; the README's example command).</summary>
    public string Init { get; init; } = "random";

    /// <summary>Prompts of the text features: dataset (the dataset's template — Tip-Adapter's hand-crafted template of the
    /// 10 non-ImageNet datasets, engine/templates/hand_crafted.py TIP_ADAPTER_TEMPLATES, equals CoOp's) or another set;
    /// ImageNet's preset is its 7 templates (imagenet_templates).</summary>
    public string Templates { get; init; } = "dataset";

    /// <summary>Image training features: flip (the centre-crop features plus one view of the centre crop mirrored,
    /// train.py torch.cat([ccrop, image_features]); linear_probe.sh IMAGE_AUGS flip, IMAGE_VIEWS 1) or none (centre crop
    /// only).</summary>
    public string ImageAugmentation { get; init; } = "flip";

    /// <summary>AdamW learning rates searched (HYPER_DICT['linear']['lr']: [0.001, 0.0001]).</summary>
    public double[] Lr { get; init; } = [0.001, 0.0001];

    /// <summary>AdamW weight decays searched (HYPER_DICT['linear']['weight_decay']: [0.0, 0.01, 0.0001]).</summary>
    public double[] WeightDecay { get; init; } = [0.0, 0.01, 0.0001];

    /// <summary>Batch sizes searched (HYPER_DICT['linear']['batch_size']: [8, 32]); only those valid for the cell are run
    /// (train.py get_valid_batch_sizes: each modality's share strictly smaller than its dataset).</summary>
    public int[] BatchSize { get; init; } = [8, 32];

    /// <summary>Training iterations of every grid point, also the cosine's T_max (HYPER_DICT['linear']['max_iter']: [12800]).</summary>
    public int Iterations { get; init; } = 12800;

    /// <summary>Linear warm-up iterations: iteration 0 at <see cref="WarmupLr"/>, iteration i &lt; W at lr·i/W
    /// (HYPER_DICT['linear'] warmup_iter 50, warmup_type linear; scheduler.py LinearWarmupScheduler).</summary>
    public int WarmupIterations { get; init; } = 50;

    /// <summary>Learning rate of iteration 0 (HYPER_DICT['linear'] warmup_min_lr 1e-5).</summary>
    public double WarmupLr { get; init; } = 1e-5;

    /// <summary>Validate every this many iterations (i % n == 0) and keep the first best head (train.py EVAL_FREQ = 100).</summary>
    public int EvalEvery { get; init; } = 100;

    /// <summary>Logit scale as its logarithm, fixed: logits = exp(logit) · normalise(f) · Wᵀ (linear_probe.sh LOGITS
    /// 4.60517, i.e. CLIP's 100; logit.py LogitHead).</summary>
    public double Logit { get; init; } = 4.60517;

    /// <summary>Classify test images with the WiSE-FT head (1 − r)·W + r·normalise(zero-shot weights) instead of the
    /// trained head. Off: the paper's main tables are eval.py with --wise_ft False (eval type 'head', the official
    /// README's evaluation command); the official README uses WiSE-FT only for the ImageNet domain-shift experiments
    /// (eval_domain_shift.py --wise_ft True).</summary>
    public bool WiseFt { get; init; }

    /// <summary>WiSE-FT mixing ratio r (train.py get_eval_heads ratio_list=[0.5]).</summary>
    public double WiseFtRatio { get; init; } = 0.5;

    public static readonly string[] Modalities = ["cross-modal", "uni-modal"];
    public static readonly string[] Inits = ["random", "zeroshot"];
    public static readonly string[] ImageAugmentations = ["flip", "none"];

    /// <summary>train.py CROSS_MODAL_BATCH_RATIO: the text share of a cross-modal batch.</summary>
    public const double CrossModalBatchRatio = 0.5;

    public IEnumerable<string> Validate()
    {
        if (!Modalities.Contains(Modality)) yield return $"modality must be one of {string.Join(", ", Modalities)}, got '{Modality}'";
        if (!Inits.Contains(Init)) yield return $"init must be one of {string.Join(", ", Inits)}, got '{Init}'";
        if (!PromptTemplates.SetNames.Contains(Templates)) yield return $"templates must be one of {string.Join(", ", PromptTemplates.SetNames)}, got '{Templates}'";
        if (!ImageAugmentations.Contains(ImageAugmentation))
            yield return $"imageAugmentation must be one of {string.Join(", ", ImageAugmentations)}, got '{ImageAugmentation}'";
        if (Lr is null || Lr.Length == 0) yield return "lr must list at least one learning rate";
        else if (Lr.Any(v => !(v > 0) || double.IsInfinity(v))) yield return $"lr values must be positive and finite, got {Show(Lr)}";
        if (WeightDecay is null || WeightDecay.Length == 0) yield return "weightDecay must list at least one value";
        else if (WeightDecay.Any(v => !(v >= 0) || double.IsInfinity(v))) yield return $"weightDecay values must be finite and >= 0, got {Show(WeightDecay)}";
        if (BatchSize is null || BatchSize.Length == 0) yield return "batchSize must list at least one batch size";
        else if (BatchSize.Any(b => b < (Modality == "cross-modal" ? 2 : 1)))
            yield return $"batchSize values must be >= {(Modality == "cross-modal" ? 2 : 1)} (a cross-modal batch is half text, half images), got [{string.Join(", ", BatchSize)}]";
        if (Iterations < 1) yield return $"iterations must be >= 1, got {Iterations}";
        if (WarmupIterations < 0) yield return $"warmupIterations must be >= 0, got {WarmupIterations}";
        if (!(WarmupLr > 0) || double.IsInfinity(WarmupLr)) yield return $"warmupLr must be positive and finite, got {WarmupLr}";
        if (EvalEvery < 1) yield return $"evalEvery must be >= 1, got {EvalEvery}";
        if (!double.IsFinite(Logit)) yield return $"logit must be finite, got {Logit}";
        if (!(WiseFtRatio >= 0 && WiseFtRatio <= 1)) yield return $"wiseFtRatio must be in [0, 1], got {WiseFtRatio}";
    }

    static string Show(double[] values) => "[" + string.Join(", ", values.Select(v => v.ToString("R", CultureInfo.InvariantCulture))) + "]";
}
