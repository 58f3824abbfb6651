using Peft.Core;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Methods.LpPlusPlus;

/// <summary>
/// LP++ (Huang et al., CVPR 2024; FereshteShakeri/FewShot-CLIP-Strong-Baseline methods/linear_probe_p2.py
/// <c>LinearProbe_P2.forward</c>) on cached features: logits = f Wᵀ + b + α ⊙ (f T) on normalised features, with W
/// initialised to the class sums of the training features, b as nn.Linear initialises it, every α_c to 250 × the
/// mean class text logit; full-batch cross-entropy, W and b by SGD (momentum 0.9) with step 4N / λ_max(FᵀF) every
/// epoch, α by a gradient step N / (4 max_c Σᵢ (fᵢ·t_c)²) every 10 epochs (block updates). The official code returns
/// the classifier of the last epoch with the best validation accuracy; so does this one by default.
/// </summary>
public sealed class LpPlusPlusMethod(LpPlusPlusOptions options) : IAdaptationMethod
{
    /// <summary>linear_probe_p2.py: torch.optim.SGD(classifier.parameters(), lr_temp, momentum=0.9).</summary>
    public const double Momentum = 0.9;

    public LpPlusPlusOptions Options => options;

    public IFeatureClassifier Fit(AdaptationContext context)
    {
        // nn.Linear(D, C)'s bias initialisation, U(−1/√D, 1/√D); the weight it draws is replaced by the class sums.
        double bound = 1 / Math.Sqrt(context.Features.Dim);
        using var bias = empty(context.Task.NumClasses).uniform_(-bound, bound, context.Generator);
        return Fit(context, bias);
    }

    /// <summary>Fit from a given initial bias [C] (the official comparison replays the official code's draw).</summary>
    internal IFeatureClassifier Fit(AdaptationContext context, Tensor initialBias)
    {
        using var scope = NewDisposeScope();
        int classes = context.Task.NumClasses;
        var templates = PromptTemplates.Resolve(options.Templates, context.Task.Templates);
        var text = TextClassifier.Build(context.TextEncoder, context.Tokenizer, context.Task.ClassNames, templates).t().contiguous(); // [D, C]
        // main.py's train_loader encodes the training set once through the augmenting transform: one view per image.
        var train = options.TrainFeatures == "augmented" ? context.Features.TrainViews(1)[0] : context.Features.TrainFeatures();
        var f = LpPlusPlusClassifier.Normalise(train);
        var labels = context.Features.TrainLabels.to(ScalarType.Int64);

        double lrW = LpPlusPlusInit.StepSizeW(f);
        float lrAlpha = LpPlusPlusInit.StepSizeAlpha(f, text);
        double alpha0 = LpPlusPlusInit.InitialAlpha(f, labels, text, classes, context.Task.Shots);
        context.Metrics.Log("lr_w", lrW);
        context.Metrics.Log("lr_alpha", lrAlpha);
        context.Metrics.Log("init_alpha", alpha0);

        var weight = new Parameter(LpPlusPlusInit.ClassSums(f, labels, classes));
        var bias = new Parameter(initialBias.to(ScalarType.Float32).detach().clone());
        // final_init_alpha_mean (double) * torch.ones(1, C): a float32 row.
        var alpha = full(1, classes, (float)alpha0).requires_grad_();
        var (bestWeight, bestBias, bestAlpha, bestEpoch) = Train(context, f, labels, text, weight, bias, alpha, lrW, lrAlpha);
        context.Metrics.Log("best_epoch", bestEpoch);

        var classifier = new LpPlusPlusClassifier(bestWeight.MoveToOuterDisposeScope(), bestBias.MoveToOuterDisposeScope(),
            bestAlpha.MoveToOuterDisposeScope(), text.MoveToOuterDisposeScope());
        return classifier;
    }

    /// <summary>The official loop: forward, backward, SGD step on W and b, every <c>alphaEvery</c> epochs α −= lr_α ·
    /// (its gradient accumulated since epoch 0), then validation; the classifier of the last best epoch is kept.</summary>
    (Tensor Weight, Tensor Bias, Tensor Alpha, int Epoch) Train(AdaptationContext context, Tensor f, Tensor labels, Tensor text,
        Parameter weight, Parameter bias, Tensor alpha, double lrW, float lrAlpha)
    {
        // torch.optim.SGD's step, written out in Peft.Core (TorchSharp's optim.SGD passes temporary Scalars to native calls).
        using var optimizer = new Peft.Core.Prompting.Sgd([weight, bias], Momentum, weightDecay: 0);
        var valLabels = context.Features.ValLabels.to(ScalarType.Int64);
        var val = valLabels.shape[0] > 0 ? LpPlusPlusClassifier.Normalise(context.Features.ValFeatures()) : null;
        bool bestVal = options.Select == "best-val" && val is not null;
        Tensor bestWeight = weight.detach().clone(), bestBias = bias.detach().clone(), bestAlpha = alpha.detach().clone();
        long bestCorrect = 0; // acc_val >= best_acc with best_acc = 0: epoch 0 is always taken
        int bestEpoch = -1;
        for (int epoch = 0; epoch < options.Epochs; epoch++)
        {
            context.Cancellation.ThrowIfCancellationRequested();
            using var epochScope = NewDisposeScope();
            var loss = nn.functional.cross_entropy(LpPlusPlusClassifier.Blend(f, weight, bias, alpha, text), labels);
            loss.backward(); // also accumulates into alpha.grad, which the official code never zeroes
            optimizer.Step(lrW); // zeroes W's and b's gradients after the step (the official zero_grad before backward)
            if ((epoch + 1) % options.AlphaEvery == 0)
                using (no_grad()) alpha.sub_(alpha.grad! * lrAlpha);
            context.Metrics.Log("train/loss", loss.item<float>(), epoch);

            using var noGrad = no_grad();
            if (val is not null)
            {
                long correct = LpPlusPlusClassifier.Blend(val, weight, bias, alpha, text).argmax(1).eq(valLabels).sum().item<long>();
                context.Metrics.Log("val/accuracy", (double)correct / valLabels.shape[0], epoch);
                if (bestVal && correct >= bestCorrect)
                {
                    (bestCorrect, bestEpoch) = (correct, epoch);
                    bestWeight.copy_(weight);
                    bestBias.copy_(bias);
                    bestAlpha.copy_(alpha);
                }
            }
        }
        if (bestVal) return (bestWeight, bestBias, bestAlpha, bestEpoch);
        return (weight.detach().clone(), bias.detach().clone(), alpha.detach().clone(), options.Epochs - 1);
    }
}
