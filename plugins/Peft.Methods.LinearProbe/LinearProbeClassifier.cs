using Peft.Core;
using static TorchSharp.torch;

namespace Peft.Methods.LinearProbe;

/// <summary>logits = x·Wᵀ + b on unnormalised features; W [C, D] and b [C] float64 as fitted, logits float32.</summary>
sealed class LinearProbeClassifier : IFeatureClassifier
{
    readonly Tensor _w, _b;

    public LinearProbeClassifier(Tensor weight, Tensor bias, double c)
    {
        _w = weight;
        _b = bias;
        C = c;
        Weights = new Dictionary<string, Tensor> { ["weight"] = _w, ["bias"] = _b };
    }

    /// <summary>The inverse regularisation strength the classifier was fitted with.</summary>
    public double C { get; }

    public long TrainableParameters => _w.numel() + _b.numel();
    public IReadOnlyDictionary<string, Tensor> Weights { get; }

    public Tensor Logits(Tensor imageFeatures)
    {
        using var scope = NewDisposeScope();
        return LogitsFloat64(imageFeatures).to(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    internal Tensor LogitsFloat64(Tensor features)
    {
        using var scope = NewDisposeScope();
        return features.to(ScalarType.Float64).matmul(_w.t()).add(_b).MoveToOuterDisposeScope();
    }

    /// <summary>Predicted classes (first maximum on ties, as numpy's argmax in sklearn's predict).</summary>
    internal long[] Predict(Tensor features)
    {
        using var scope = NewDisposeScope();
        var logits = LogitsFloat64(features);
        return Multinomial.ArgmaxRows(logits);
    }

    public void Dispose()
    {
        _w.Dispose();
        _b.Dispose();
    }
}
