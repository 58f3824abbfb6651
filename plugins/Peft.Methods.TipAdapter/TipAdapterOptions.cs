using Peft.Core;

namespace Peft.Methods.TipAdapter;

/// <summary>
/// Options of Tip-Adapter. Defaults are the official ImageNet configuration (gaopengcuhk/Tip-Adapter
/// configs/imagenet.yaml, commit d0e2d6f); the other CoOp datasets get their own config's values from
/// <see cref="TipAdapterPresets"/> (applied by the host unless the experiment sets the option).
/// </summary>
/// <remarks>
/// Protocol: by default α and β are searched on the cell's few-shot <b>validation</b> features only. The official code
/// searches on the full validation split (main.py) and, for ImageNet, on the test set itself (main_imagenet.py):
/// <see cref="SearchOn"/> <c>full-val</c> / <c>test</c>, accepted only under the experiment's <c>as-published</c> protocol.
/// </remarks>
public record TipAdapterOptions : IMethodOptions
{
    /// <summary>Augmented views averaged into each cache key (configs/*.yaml augment_epoch: 10).</summary>
    public int AugmentViews { get; init; } = 10;

    /// <summary>
    /// Prompts of the CLIP classifier: <c>dataset</c> = the dataset's single CoOp-style template (Tip-Adapter
    /// datasets/*.py for the 10 non-ImageNet datasets), <c>ensemble7</c> = CLIP's 7 selected ImageNet templates
    /// (Tip-Adapter datasets/imagenet.py).
    /// </summary>
    public string Templates { get; init; } = "dataset";

    /// <summary>Scale of the zero-shot logits: the literal <c>100.</c> of main.py run_tip_adapter (not CLIP's learned logit_scale).</summary>
    public double LogitScale { get; init; } = 100.0;

    /// <summary>Residual ratio α, used when <see cref="Search"/> is off and during Tip-Adapter-F training (configs/imagenet.yaml init_alpha: 1.17).</summary>
    public double InitAlpha { get; init; } = 1.17;

    /// <summary>Sharpness β, used when <see cref="Search"/> is off and during Tip-Adapter-F training (configs/imagenet.yaml init_beta: 1).</summary>
    public double InitBeta { get; init; } = 1.0;

    /// <summary>Search α and β on the validation features (configs/imagenet.yaml search_hp: True).</summary>
    public bool Search { get; init; } = true;

    /// <summary>
    /// [S_β, S_α]: β ∈ {0.1 + i·(S_β−0.1)/n_β}, α ∈ {0.1 + j·(S_α−0.1)/n_α} (utils.py search_hp); a configured list
    /// replaces the default (MethodOptionsBinder). Null also means <see cref="DefaultSearchScale"/>.
    /// </summary>
    public double[]? SearchScale { get; init; } = [7, 3]; // configs/imagenet.yaml: search_scale: [7, 3]

    /// <summary>[n_β, n_α]: grid sizes; null also means <see cref="DefaultSearchStep"/>.</summary>
    public int[]? SearchStep { get; init; } = [200, 20]; // configs/imagenet.yaml: search_step: [200, 20]

    public static readonly double[] DefaultSearchScale = [7, 3];   // configs/imagenet.yaml: search_scale: [7, 3]
    public static readonly int[] DefaultSearchStep = [200, 20];     // configs/imagenet.yaml: search_step: [200, 20]

    /// <summary>The β grid (utils.py search_hp beta_list).</summary>
    public double[] BetaGrid() => TipCache.Grid((SearchScale ?? DefaultSearchScale)[0], (SearchStep ?? DefaultSearchStep)[0]);

    /// <summary>The α grid (utils.py search_hp alpha_list).</summary>
    public double[] AlphaGrid() => TipCache.Grid((SearchScale ?? DefaultSearchScale)[1], (SearchStep ?? DefaultSearchStep)[1]);

    /// <summary>
    /// Which features α/β are searched on: <c>val</c> (default: the cell's few-shot validation split), <c>full-val</c>
    /// (the dataset's whole validation split, main.py) or <c>test</c> (main_imagenet.py). The last two read
    /// <see cref="AdaptationContext.Oracle"/> and need the <c>as-published</c> protocol.
    /// </summary>
    public string SearchOn { get; init; } = "val";

    public static readonly string[] TemplateSets = ["dataset", "ensemble7"];
    public static readonly string[] SearchSplits = ["val", "full-val", "test"];

    public virtual bool UsesOracle => Search && SearchOn != "val";

    public virtual IEnumerable<string> Validate()
    {
        if (AugmentViews < 1) yield return $"augmentViews must be at least 1, got {AugmentViews}";
        if (!TemplateSets.Contains(Templates))
            yield return $"templates must be one of {string.Join(", ", TemplateSets)}, got '{Templates}'";
        if (!(LogitScale > 0) || double.IsInfinity(LogitScale)) yield return $"logitScale must be positive and finite, got {LogitScale}";
        if (!double.IsFinite(InitAlpha) || InitAlpha < 0) yield return $"initAlpha must be finite and >= 0, got {InitAlpha}";
        if (!double.IsFinite(InitBeta) || InitBeta < 0) yield return $"initBeta must be finite and >= 0, got {InitBeta}";
        if (SearchScale is not null && SearchScale.Length != 2)
            yield return $"searchScale must be two numbers [beta, alpha], got {Show(SearchScale)}";
        else if (SearchScale is not null && SearchScale.Any(s => !double.IsFinite(s) || s <= 0.1))
            yield return $"searchScale values must be finite and > 0.1 (the grid starts at 0.1), got {Show(SearchScale)}";
        if (SearchStep is not null && SearchStep.Length != 2)
            yield return $"searchStep must be two integers [beta, alpha], got {Show(SearchStep)}";
        else if (SearchStep is not null && SearchStep.Any(s => s < 1))
            yield return $"searchStep values must be at least 1, got {Show(SearchStep)}";
        if (!SearchSplits.Contains(SearchOn))
            yield return $"searchOn must be one of {string.Join(", ", SearchSplits)}, got '{SearchOn}'";
    }

    static string Show<T>(T[] values) => $"[{string.Join(", ", values)}]";
}

/// <summary>
/// Options of Tip-Adapter-F: those of Tip-Adapter (α/β during training are <see cref="TipAdapterOptions.InitAlpha"/> and
/// <see cref="TipAdapterOptions.InitBeta"/>, as in main.py run_tip_adapter_F) plus the fine-tuning of the cache keys.
/// </summary>
/// <remarks>
/// Epoch selection: the official code keeps the epoch with the best <b>test</b> accuracy; here <c>last</c> (default) keeps
/// the last epoch's keys and <c>best-val</c> the epoch with the best validation accuracy (α, β at init values);
/// <c>best-test</c> (and <see cref="MaxBestFinal"/>) reproduce the official rules under the <c>as-published</c> protocol.
/// </remarks>
public sealed record TipAdapterFOptions : TipAdapterOptions
{
    /// <summary>Training epochs (configs/*.yaml train_epoch: 20; EuroSAT 100).</summary>
    public int Epochs { get; init; } = 20;

    /// <summary>AdamW learning rate (configs/*.yaml lr: 0.001).</summary>
    public double LearningRate { get; init; } = 0.001;

    /// <summary>AdamW eps (main.py run_tip_adapter_F: eps=1e-4).</summary>
    public double Eps { get; init; } = 1e-4;

    /// <summary>AdamW weight decay (main.py passes none: PyTorch's AdamW default 0.01; TorchSharp's default is 0).</summary>
    public double WeightDecay { get; init; } = 0.01;

    /// <summary>Batch size (main.py train_loader_F: batch_size=256, shuffle=True, drop_last=False).</summary>
    public int BatchSize { get; init; } = 256;

    /// <summary>
    /// Cached augmented views cycled through in training: epoch e uses view (e mod trainViews) of every image. The
    /// official code re-augments and re-encodes each batch every epoch; this is its cached-view equivalent
    /// (10 = augment_epoch, the views the cache itself was built from).
    /// </summary>
    public int TrainViews { get; init; } = 10;

    /// <summary>
    /// Which epoch's keys to keep: <c>last</c> (default), <c>best-val</c>, or <c>best-test</c> (main.py run_tip_adapter_F:
    /// the epoch with the best test accuracy at init α/β; as-published protocol only).
    /// </summary>
    public string Select { get; init; } = "last";

    /// <summary>
    /// Return whichever of (kept keys, init α/β) and (kept keys, searched α/β) is more accurate on test: main.py prints
    /// <c>max(best_acc, acc)</c> as Tip-Adapter-F's result (main_imagenet.py does not). As-published protocol only.
    /// </summary>
    public bool MaxBestFinal { get; init; }

    /// <summary>
    /// Training arithmetic: <c>fp32</c> (default) or <c>bf16</c> (<see cref="Peft.Core.Optimization.TrainingPrecision"/>: the
    /// affinity products of training and of the per-epoch selection run in bf16, keys and AdamW state stay fp32; the
    /// α/β search and the returned classifier use the fp32 keys). The official code trains in CLIP's dtype, fp16 on
    /// its GPU (main.py <c>.to(clip_model.dtype)</c>); ours defaults to fp32, the dtype of a CPU run of that code.
    /// </summary>
    public string Precision { get; init; } = "fp32"; // main.py: adapter .to(clip_model.dtype), fp32 on a CPU

    public static readonly string[] Selections = ["last", "best-val", "best-test"];

    public override bool UsesOracle => base.UsesOracle || Select == "best-test" || MaxBestFinal;

    public override IEnumerable<string> Validate()
    {
        foreach (var problem in base.Validate()) yield return problem;
        if (Epochs < 1) yield return $"epochs must be at least 1, got {Epochs}";
        if (!(LearningRate > 0) || !double.IsFinite(LearningRate)) yield return $"learningRate must be positive, got {LearningRate}";
        if (!(Eps > 0) || !double.IsFinite(Eps)) yield return $"eps must be positive, got {Eps}";
        if (!(WeightDecay >= 0) || !double.IsFinite(WeightDecay)) yield return $"weightDecay must be >= 0, got {WeightDecay}";
        if (BatchSize < 1) yield return $"batchSize must be at least 1, got {BatchSize}";
        if (TrainViews < 1) yield return $"trainViews must be at least 1, got {TrainViews}";
        if (!Selections.Contains(Select)) yield return $"select must be one of {string.Join(", ", Selections)}, got '{Select}'";
        if (Peft.Core.Optimization.TrainingPrecision.Problem(Precision) is { } precision) yield return precision;
    }
}
