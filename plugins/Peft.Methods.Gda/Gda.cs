using Peft.Core;
using static TorchSharp.torch;

namespace Peft.Methods.Gda;

/// <summary>
/// GDA (Wang et al., ICLR 2024; mrflogs/ICLR24 main_few_shots.py <c>run</c>), training-free: the normalised features of
/// every augmented view of the training images estimate per-class means μ_c and one shared covariance Σ (Ledoit-Wolf-like
/// shrinkage as the official "KS estimator": Σ⁻¹ = D · pinv((M−1)·S + tr(S)·I) with S the sample covariance of the
/// class-centred features); the linear discriminant W = Σ⁻¹μ_c, b_c = log(1/C) − μ_cᵀΣ⁻¹μ_c / 2 is added to zero-shot
/// CLIP with weight α searched on validation. Written operation by operation as the official code (float32, einsum,
/// pinv), so that the same features give the same predictions.
/// </summary>
public sealed class Gda(GdaOptions options) : IAdaptationMethod
{
    public IFeatureClassifier Fit(AdaptationContext context)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        int classes = context.Task.NumClasses;
        IReadOnlyList<string> templates = options.Templates == "ensemble7" ? PromptTemplates.ImageNetSelected7 : context.Task.Templates;
        var clipWeights = TextClassifier.Build(context.TextEncoder, context.Tokenizer, context.Task.ClassNames, templates).t(); // [D, C]

        // vecs: view 0 of every image, then view 1, ... (augment_epoch outer, train_loader_cache in order), each normalised.
        var views = context.Features.TrainViews(options.AugmentViews).to(ScalarType.Float32);
        var vecs = nn.functional.normalize(views.reshape(-1, views.shape[2]), dim: -1);
        var labels = context.Features.TrainLabels.to(ScalarType.Int64).repeat(options.AugmentViews);
        var mus = cat(Enumerable.Range(0, classes).Select(c => vecs[labels.eq(c)].mean([0], keepdim: true)).ToArray());
        var centred = cat(Enumerable.Range(0, classes).Select(c => vecs[labels.eq(c)] - mus[c].unsqueeze(0)).ToArray());
        long d = centred.shape[1], m = centred.shape[0];
        var s = centred.t().cov();
        var covInv = linalg.pinv(s * (m - 1) + s.trace() * eye(d)) * d;
        var w = einsum("nd, dc -> cn", mus, covInv);                                              // [D, C]
        var b = full(classes, 1.0f / classes).log() - einsum("nd, dc, nc -> n", mus, covInv, mus) / 2;

        double alpha = options.Alpha ?? Search(context, clipWeights, w, b);
        context.Metrics.Log("alpha", alpha);
        var classifier = new GdaClassifier(clipWeights.t().contiguous(), w, b, alpha, options.LogitScale);
        if (context.Features.ValLabels.shape[0] > 0)
        {
            var predicted = classifier.Logits(context.Features.ValFeatures()).argmax(1);
            context.Metrics.Log("val_accuracy", predicted.eq(context.Features.ValLabels).to(ScalarType.Float64).mean().item<double>());
        }
        classifier.MoveToOuterDisposeScope();
        return classifier;
    }

    /// <summary>main_few_shots.py: each α of the grid in order, kept only when strictly better (best starts at 0, α 0.1).</summary>
    double Search(AdaptationContext context, Tensor clipWeights, Tensor w, Tensor b)
    {
        var (features, labels) = options.SearchOn switch
        {
            "val" => (context.Features.ValFeatures(), context.Features.ValLabels),
            _ when context.Oracle is { } oracle => options.SearchOn == "test" ? (oracle.TestFeatures(), oracle.TestLabels) : (oracle.FullValFeatures(), oracle.FullValLabels),
            _ => throw new InvalidOperationException($"gda: searchOn '{options.SearchOn}' reads data a few-shot protocol withholds; it needs the experiment setting protocol: \"as-published\""),
        };
        if (labels.shape[0] == 0) return options.InitAlpha;
        var f = nn.functional.normalize(features.to(ScalarType.Float32), dim: -1); // pre_load_features normalises
        var zeroShot = f.matmul(clipWeights) * options.LogitScale;
        var gda = f.matmul(w) + b;
        double best = 0, bestAlpha = options.InitAlpha;
        foreach (var alpha in options.AlphaGrid)
        {
            context.Cancellation.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            double correct = (zeroShot + gda * alpha).argmax(1).eq(labels).sum().item<long>();
            if (correct > best) (best, bestAlpha) = (correct, alpha);
        }
        if (options.SearchOn != "val") context.Metrics.Log("search_accuracy", best / labels.shape[0]);
        return bestAlpha;
    }
}
