using static TorchSharp.torch;

namespace Peft.Core.Encoders;

/// <summary>
/// An encoder-level method (the contract's second tier): trains parameters inside the frozen towers, from batches of
/// augmented images, and returns a classifier over the features the adapted towers compute. The host evaluates it: it
/// applies <see cref="IEncoderClassifier.Adaptation"/>, encodes the validation and test images itself, and scores
/// <see cref="IFeatureClassifier.Logits"/> on those features.
/// </summary>
public interface IEncoderAdaptationMethod
{
    IEncoderClassifier Fit(EncoderAdaptationContext context);
}

/// <summary>What an encoder-level method returns: a classifier over adapted image features, and the adaptation that
/// produces those features (its <see cref="IFeatureClassifier.Weights"/> are the trained deltas, saved as the artifact).</summary>
public interface IEncoderClassifier : IFeatureClassifier
{
    TowerAdaptation Adaptation { get; }
}

/// <summary>Options of an encoder-level method: which backbones they apply to.</summary>
public interface IEncoderMethodOptions : IMethodOptions
{
    /// <summary>True when these options adapt the image tower's transformer blocks, which a ModifiedResNet (RN50, ...)
    /// does not have: the host refuses such a method on such a backbone, naming both.</summary>
    bool AdaptsImageTransformer { get; }

    /// <summary>Transformer blocks each adapted tower must have at least (e.g. MaPLe's prompt depth); 0: any. The host
    /// checks it against the checkpoint at plan time where its key names tell the depth, else when the model is loaded.</summary>
    int BlocksNeeded => 0;
}

/// <summary>Images of one split of the cell in the evaluation transform (CLIP's resize and centre crop).</summary>
public interface IEvaluationImages
{
    int Count { get; }
    /// <summary>Labels [Count] (int64).</summary>
    Tensor Labels { get; }
    /// <summary>Preprocessed images [B, 3, R, R] (float32) at <paramref name="indices"/>.</summary>
    Tensor Images(IReadOnlyList<long> indices);
}

/// <summary>The cell's few-shot training images under the method's training transform (the host's augmentation).</summary>
public interface ITrainingImages
{
    int Count { get; }
    /// <summary>Labels [Count] (int64).</summary>
    Tensor Labels { get; }
    /// <summary>
    /// View <paramref name="view"/> [B, 3, R, R] (float32) of the images at <paramref name="indices"/>: a random resized crop
    /// and flip drawn from (cell seed, image, view), so view v of an image is the same in every run and process. Methods
    /// that augment afresh each epoch, as the official data loaders do, read view = epoch.
    /// </summary>
    Tensor Images(IReadOnlyList<long> indices, int view);
}

/// <summary>Everything an encoder-level method receives for one cell. Test images are not part of it.</summary>
public sealed class EncoderAdaptationContext
{
    public required FewShotTask Task { get; init; }
    /// <summary>The frozen towers with their insertion points.</summary>
    public required IAdaptableClip Clip { get; init; }
    public required ITextTokenizer Tokenizer { get; init; }
    public required ITrainingImages Train { get; init; }
    public required IEvaluationImages Validation { get; init; }
    /// <summary>The cell's generator: every random choice of the method (initialisation, order, dropout) draws from it.</summary>
    public required Generator Generator { get; init; }
    public IMetricSink Metrics { get; init; } = NullMetricSink.Instance;
    public CancellationToken Cancellation { get; init; }
}
