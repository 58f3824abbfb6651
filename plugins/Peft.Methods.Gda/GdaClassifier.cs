using Peft.Core;
using static TorchSharp.torch;

namespace Peft.Methods.Gda;

/// <summary>logits = s · f Wᵀ_clip + α · (f W + b) on normalised image features f (main_few_shots.py test_logits).</summary>
sealed class GdaClassifier(Tensor clipWeights, Tensor w, Tensor b, double alpha, double scale) : IFeatureClassifier
{
    public double Alpha => alpha;
    public long TrainableParameters => 0;

    public IReadOnlyDictionary<string, Tensor> Weights => new Dictionary<string, Tensor>
    {
        ["clip_weights"] = clipWeights, ["gda_weight"] = w, ["gda_bias"] = b,
    };

    public Tensor Logits(Tensor imageFeatures)
    {
        using var scope = NewDisposeScope();
        var f = nn.functional.normalize(imageFeatures.to(ScalarType.Float32), dim: -1);
        return (f.matmul(clipWeights.t()) * scale + (f.matmul(w) + b) * alpha).MoveToOuterDisposeScope();
    }

    public void MoveToOuterDisposeScope()
    {
        clipWeights.MoveToOuterDisposeScope();
        w.MoveToOuterDisposeScope();
        b.MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        clipWeights.Dispose();
        w.Dispose();
        b.Dispose();
    }
}
