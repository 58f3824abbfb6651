using Peft.Core;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Methods.ClipAdapter;

/// <summary>
/// CLIP-Adapter's head (clip_adapter.py <c>CustomCLIP.forward</c> after the image encoder):
/// f' = normalise(α·A_v(f) + (1−α)·f), W' = normalise(α·A_t(W) + (1−α)·W) (text branch only, the paper's
/// variant), logits = exp(logit_scale) · f'·W'ᵀ. Without an adapter on a side that side passes through unchanged.
/// The adapters act on features, not on classes, so other classes (base-to-new, transfer) get their own W from their
/// names with the same adapters.
/// </summary>
sealed class ClipAdapterClassifier : IFeatureClassifier, IOpenVocabularyClassifier
{
    readonly Tensor _textWeights; // [C, D], normalised, frozen
    readonly float _scale;
    readonly double _alpha;
    bool _ownsAdapters = true;

    /// <summary>The frozen class weights W [C, D] for other classes (their names and templates); null: this head cannot change classes.</summary>
    public Func<FewShotTask, Tensor>? TextWeightsFor { get; init; }

    /// <summary>The trained adapters over other classes' W (the adapters are shared, not disposed by the result).</summary>
    public IFeatureClassifier? ForClasses(FewShotTask classes) =>
        TextWeightsFor is null ? null
            : new ClipAdapterClassifier(TextWeightsFor(classes), _scale, _alpha, Visual, Text) { TextWeightsFor = TextWeightsFor }.NotOwningAdapters();

    public BottleneckAdapter? Visual { get; }
    public BottleneckAdapter? Text { get; }

    public ClipAdapterClassifier(Tensor textWeights, float scale, double alpha, BottleneckAdapter? visual, BottleneckAdapter? text)
    {
        _textWeights = textWeights;
        _scale = scale;
        _alpha = alpha;
        Visual = visual;
        Text = text;
    }

    ClipAdapterClassifier NotOwningAdapters()
    {
        _ownsAdapters = false;
        return this;
    }

    public IEnumerable<Parameter> Parameters =>
        (Visual?.Parameters ?? []).Concat(Text?.Parameters ?? []);

    public long TrainableParameters => (Visual?.ParameterCount ?? 0) + (Text?.ParameterCount ?? 0);

    public IReadOnlyDictionary<string, Tensor> Weights
    {
        get
        {
            // Names follow the released state_dict (adapter.fc.0.weight / adapter.fc.2.weight).
            var weights = new Dictionary<string, Tensor> { ["text_classifier"] = _textWeights };
            if (Visual is not null)
            {
                weights["visual_adapter.fc.0.weight"] = Visual.Down;
                weights["visual_adapter.fc.2.weight"] = Visual.Up;
            }
            if (Text is not null)
            {
                weights["text_adapter.fc.0.weight"] = Text.Down;
                weights["text_adapter.fc.2.weight"] = Text.Up;
            }
            return weights;
        }
    }

    /// <summary>The class weights after the text adapter (or <c>W</c> itself without one), normalised, [C, D].</summary>
    public Tensor AdaptedTextWeights(ScalarType compute = ScalarType.Float32)
    {
        if (Text is null) return _textWeights.alias();
        using var scope = NewDisposeScope();
        return nn.functional.normalize(Text.Blend(_textWeights, _alpha, compute), dim: -1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The differentiable forward used for training; its matrix products in <paramref name="compute"/> (the option
    /// <c>precision</c>), the normalisations and the logits' scale in fp32. Evaluation (<see cref="Logits"/>) is fp32.
    /// </summary>
    public Tensor Forward(Tensor imageFeatures, ScalarType compute = ScalarType.Float32)
    {
        using var scope = NewDisposeScope();
        var f = imageFeatures.to(ScalarType.Float32);
        if (Visual is not null) f = Visual.Blend(f, _alpha, compute);
        f = nn.functional.normalize(f, dim: -1);
        var text = AdaptedTextWeights(compute);
        var logits = f.to(compute).matmul(text.to(compute).t()).to(ScalarType.Float32);   // fp32: no casts
        return (logits * _scale).MoveToOuterDisposeScope();
    }

    public Tensor Logits(Tensor imageFeatures)
    {
        using var noGrad = no_grad();
        return Forward(imageFeatures);
    }

    public void Dispose()
    {
        _textWeights.Dispose();
        if (!_ownsAdapters) return;
        Visual?.Dispose();
        Text?.Dispose();
    }
}
