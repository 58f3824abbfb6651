using Peft.Core;
using static TorchSharp.torch;

namespace Peft.Methods.TipAdapter;

/// <summary>
/// Tip-Adapter (Zhang et al., ECCV 2022; gaopengcuhk/Tip-Adapter main.py run_tip_adapter): a training-free cache whose
/// keys are the few-shot training features (mean of <see cref="TipAdapterOptions.AugmentViews"/> augmented views,
/// normalised) and values their one-hot labels, added to zero-shot CLIP with residual ratio α and sharpness β.
/// α and β are searched on the cell's validation features (the official code uses the full val split, and the test
/// set for ImageNet; test data is never read here).
/// </summary>
public sealed class TipAdapter(TipAdapterOptions options) : IAdaptationMethod
{
    public IFeatureClassifier Fit(AdaptationContext context)
    {
        using var noGrad = no_grad();
        var clipWeights = TipCache.ClipWeights(context, options.Templates);
        Tensor keys;
        using (var scope = NewDisposeScope())
            keys = TipCache.Keys(context.Features.TrainViews(options.AugmentViews)).MoveToOuterDisposeScope();
        var values = TipCache.Values(context.Features.TrainLabels, context.Task.NumClasses);
        var (beta, alpha) = TipCache.Choose(options, context, clipWeights, keys, values, "tip-adapter");
        return new TipAdapterClassifier(clipWeights, keys, values, alpha, beta, options.LogitScale, 0);
    }
}
