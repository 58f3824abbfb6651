using Peft.Core;
using static TorchSharp.torch;

namespace Peft.Methods.CrossModal;

/// <summary>
/// The official <c>LogitHead(nn.Linear(D, C, bias=False), logit)</c> (engine/model/logit.py): logits =
/// normalise(f) · Wᵀ × exp(logit), the head's rows not normalised, exp taken in float32 as
/// <c>torch.FloatTensor([logit]).exp()</c>.
/// </summary>
sealed class CrossModalClassifier(Tensor weight, Tensor scale, IReadOnlyDictionary<string, Tensor>? extra = null) : IFeatureClassifier
{
    public Tensor Weight => weight;

    public long TrainableParameters => weight.numel();

    public IReadOnlyDictionary<string, Tensor> Weights
    {
        get
        {
            var weights = new Dictionary<string, Tensor> { ["weight"] = weight, ["logit_scale"] = scale };
            if (extra is not null) foreach (var (name, t) in extra) weights[name] = t;
            return weights;
        }
    }

    /// <summary>The logit scale exp(logit) as the official computes it: a float32 one-element tensor.</summary>
    public static Tensor Scale(double logit) => tensor(new[] { (float)logit }).exp();

    /// <summary>LogitHead.forward on already normalised features.</summary>
    public static Tensor Forward(Tensor normalised, Tensor weight, Tensor scale) => nn.functional.linear(normalised, weight) * scale;

    /// <summary>F.normalize(x, dim=1).</summary>
    public static Tensor Normalise(Tensor features) => nn.functional.normalize(features.to(ScalarType.Float32), p: 2, dim: 1);

    public Tensor Logits(Tensor imageFeatures)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        return Forward(Normalise(imageFeatures), weight, scale).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        weight.Dispose();
        scale.Dispose();
        if (extra is not null) foreach (var t in extra.Values) t.Dispose();
    }
}
