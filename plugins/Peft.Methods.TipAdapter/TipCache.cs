using Peft.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Peft.Methods.TipAdapter;

/// <summary>The pieces shared by Tip-Adapter and Tip-Adapter-F (gaopengcuhk/Tip-Adapter utils.py and main.py).</summary>
static class TipCache
{
    /// <summary>
    /// Cache keys [N, D]: the mean of the (unnormalised) features over the augmented views, then L2-normalised per image
    /// (utils.py build_cache_model). Stored [N, D] rather than the official transposed [D, N].
    /// </summary>
    public static Tensor Keys(Tensor views)
    {
        using var scope = NewDisposeScope();
        return nn.functional.normalize(views.to(ScalarType.Float32).mean([0]), dim: -1).MoveToOuterDisposeScope();
    }

    /// <summary>Cache values [N, C]: one-hot labels (utils.py build_cache_model; float32 rather than half).</summary>
    public static Tensor Values(Tensor labels, int classes) =>
        nn.functional.one_hot(labels.to(ScalarType.Int64), classes).to(ScalarType.Float32);

    /// <summary>The CLIP classifier [C, D] for the <see cref="TipAdapterOptions.Templates"/> choice.</summary>
    public static Tensor ClipWeights(AdaptationContext context, string templates)
    {
        IReadOnlyList<string> chosen = templates switch
        {
            "dataset" => context.Task.Templates,
            "ensemble7" => PromptTemplates.ImageNetSelected7,
            _ => throw new InvalidOperationException($"templates '{templates}'"),
        };
        return TextClassifier.Build(context.TextEncoder, context.Tokenizer, context.Task.ClassNames, chosen);
    }

    /// <summary>
    /// exp(−β(1 − A)) · L: main.py's ((-1) * (beta - beta * affinity)).exp() @ cache_values, computed as exp(βA − β)
    /// (bit for bit the same: x − y = −(y − x) in IEEE arithmetic) in place on one temporary instead of three
    /// ([2500, 1600] affinity: 4.4 ms against 5.8 for the operator form, measured with the allocator tuning).
    /// </summary>
    public static Tensor CacheLogits(Tensor affinity, Tensor values, double beta)
    {
        using var scope = NewDisposeScope();
        using var b = beta.ToScalar();   // a local, alive through the native calls (see Peft.Core.Optimization.Adam)
        return affinity.mul(b).sub_(b).exp_().matmul(values).MoveToOuterDisposeScope();
    }

    /// <summary>The search grid of utils.py search_hp: [i * (scale - 0.1) / steps + 0.1 for i in range(steps)].</summary>
    public static double[] Grid(double scale, int steps) =>
        Enumerable.Range(0, steps).Select(i => i * (scale - 0.1) / steps + 0.1).ToArray();

    /// <summary>Number of rows whose arg-max equals the label (utils.py cls_acc, top-1, as a count).</summary>
    public static long Correct(Tensor logits, Tensor labels) =>
        logits.argmax(1).eq(labels).sum().item<long>();

    /// <summary>
    /// utils.py search_hp: β outer, α inner, exhaustive; a setting replaces the best only when strictly better
    /// (the first of equals wins). Like the official loop the best starts at accuracy 0 with β = α = 0, so a grid
    /// where nothing is ever right returns (0, 0).
    /// </summary>
    /// <param name="clipLogits">Zero-shot logits of the validation features [M, C].</param>
    /// <param name="affinity">Validation features against the keys [M, N].</param>
    public static (double Beta, double Alpha, long Correct) Search(Tensor clipLogits, Tensor affinity, Tensor values, Tensor labels,
        IReadOnlyList<double> betas, IReadOnlyList<double> alphas, CancellationToken cancellation = default)
    {
        double bestBeta = 0, bestAlpha = 0;
        long best = 0;
        foreach (var beta in betas)
        {
            cancellation.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var cache = CacheLogits(affinity, values, beta);
            foreach (var alpha in alphas)
            {
                using var inner = NewDisposeScope();
                long correct = Correct(clipLogits + cache * alpha, labels);
                if (correct > best) (best, bestBeta, bestAlpha) = (correct, beta, alpha);
            }
        }
        return (bestBeta, bestAlpha, best);
    }

    /// <summary>
    /// The features and labels α/β are searched on (<see cref="TipAdapterOptions.SearchOn"/>): the cell's validation
    /// features, or — under the as-published protocol only — the full validation split or the test split.
    /// </summary>
    public static (Tensor Features, Tensor Labels) SearchData(TipAdapterOptions options, AdaptationContext context, string prefix)
    {
        if (options.SearchOn == "val") return (context.Features.ValFeatures(), context.Features.ValLabels);
        var oracle = context.Oracle ?? throw new InvalidOperationException(
            $"{prefix}: searchOn '{options.SearchOn}' reads data a few-shot protocol withholds; it needs the experiment setting protocol: \"as-published\"");
        return options.SearchOn == "test" ? (oracle.TestFeatures(), oracle.TestLabels) : (oracle.FullValFeatures(), oracle.FullValLabels);
    }

    /// <summary>
    /// α and β for the final classifier: searched (utils.py search_hp) on the features <see cref="SearchData"/> picks
    /// (normalised, as pre_load_features does) when <see cref="TipAdapterOptions.Search"/> is on, the init values
    /// otherwise. Logs alpha, beta, val_accuracy (the cell's validation features) and, when the search used another
    /// split, search_accuracy.
    /// </summary>
    public static (double Beta, double Alpha) Choose(TipAdapterOptions options, AdaptationContext context, Tensor clipWeights,
        Tensor keys, Tensor values, string prefix)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        double beta = options.InitBeta, alpha = options.InitAlpha;
        if (options.Search)
        {
            var (features, labels) = SearchData(options, context, prefix);
            if (labels.shape[0] == 0)
                throw new InvalidOperationException($"{prefix}: searching alpha/beta needs {(options.SearchOn == "val" ? "validation" : options.SearchOn)} features; the cell has none (set search: false)");
            var f = nn.functional.normalize(features.to(ScalarType.Float32), dim: -1);
            var found = Search(f.matmul(clipWeights.t()) * options.LogitScale, f.matmul(keys.t()), values, labels,
                options.BetaGrid(), options.AlphaGrid(), context.Cancellation);
            (beta, alpha) = (found.Beta, found.Alpha);
            if (options.SearchOn != "val") context.Metrics.Log($"{prefix}/search_accuracy", (double)found.Correct / labels.shape[0]);
        }
        context.Metrics.Log($"{prefix}/alpha", alpha);
        context.Metrics.Log($"{prefix}/beta", beta);
        var valLabels = context.Features.ValLabels;
        long m = valLabels.shape[0];
        if (m > 0)
        {
            var v = nn.functional.normalize(context.Features.ValFeatures().to(ScalarType.Float32), dim: -1);
            var logits = v.matmul(clipWeights.t()) * options.LogitScale + CacheLogits(v.matmul(keys.t()), values, beta) * alpha;
            context.Metrics.Log($"{prefix}/val_accuracy", (double)Correct(logits, valLabels) / m);
        }
        return (beta, alpha);
    }

    /// <summary>Correct predictions of logits = s·f Wᵀ + α·exp(−β(1 − f Kᵀ))·L on <paramref name="features"/> (normalised here).</summary>
    public static long CorrectOn(Tensor features, Tensor labels, Tensor clipWeights, Tensor keys, Tensor values, double alpha, double beta, double scale)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var f = nn.functional.normalize(features.to(ScalarType.Float32), dim: -1);
        return Correct(f.matmul(clipWeights.t()) * scale + CacheLogits(f.matmul(keys.t()), values, beta) * alpha, labels);
    }
}
