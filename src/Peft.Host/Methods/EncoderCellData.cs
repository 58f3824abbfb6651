using System.Security.Cryptography;
using Peft.Core.Encoders;
using Peft.Data.Augmentation;
using Peft.Features;
using Peft.Data.Datasets;
using Peft.Data.Splits;
using static TorchSharp.torch;

namespace Peft.Host.Methods;

/// <summary>
/// What the host gives an encoder-level method for one cell, and how it evaluates the result: training images under
/// the method's transform (view v of an image drawn from the cell seed, as the feature cache's views), validation
/// images, and the adapted towers' features of any evaluation images (the cell's validation and test splits, the new
/// classes of base-to-new, shift and transfer targets), computed per fitted classifier and never cached. Under
/// base-to-new, <paramref name="classes"/> is the base half: every split keeps its classes, relabelled as
/// <see cref="ClassSubsetFeatures"/> does, so labels agree with the cell's features.
/// </summary>
public sealed class EncoderCellData(ImageRenderer renderer, IViewRenderer eval, ImageDataset dataset, SplitManifest split, ClassSubsample? classes,
    AugmentationSpec augmentation, IAdaptableClip clip, CancellationToken cancel)
{
    readonly AugmentedViewRenderer _train = new(augmentation, split.Seed ?? 0);
    readonly ImageRenderer _renderer = renderer;
    readonly IViewRenderer _eval = eval;
    readonly ImageDataset _dataset = dataset;
    readonly IReadOnlyList<DatasetItem> _trainItems = classes?.Apply(split.Train) ?? split.Train;
    readonly IReadOnlyList<DatasetItem> _valItems = classes?.Apply(split.Val) ?? split.Val;

    public ITrainingImages Train => new TrainingImages(this);
    public IEvaluationImages Validation => new EvaluationImages(this, _valItems);

    /// <summary>Image paths of the cell's validation split (of the trained classes).</summary>
    public IReadOnlyList<string> ValPaths => _valItems.Select(_dataset.PathOf).ToList();

    /// <summary>Image paths of the cell's test split (of the trained classes).</summary>
    public IReadOnlyList<string> TestPaths => TestPathsOf(classes);

    /// <summary>Image paths of the test split of one half of the classes (<paramref name="half"/>; null: all), in its order.</summary>
    public IReadOnlyList<string> TestPathsOf(ClassSubsample? half) => (half?.Apply(split.Test) ?? split.Test).Select(_dataset.PathOf).ToList();

    /// <summary>Features [N, D] of the images at <paramref name="paths"/> (evaluation transform) through the towers with the
    /// classifier's adaptation applied.</summary>
    public Tensor AdaptedFeatures(IEncoderClassifier classifier, IReadOnlyList<string> paths, Action<int, int>? progress = null)
    {
        using var applied = clip.Apply(classifier.Adaptation);
        return _renderer.Encode(paths, _eval, 0, progress, cancel);
    }

    static Tensor Labels(IReadOnlyList<DatasetItem> items) => tensor(items.Select(i => (long)i.Label).ToArray());

    sealed class TrainingImages(EncoderCellData cell) : ITrainingImages
    {
        readonly List<string> _paths = cell._trainItems.Select(cell._dataset.PathOf).ToList();
        public int Count => _paths.Count;
        public Tensor Labels { get; } = EncoderCellData.Labels(cell._trainItems);
        public Tensor Images(IReadOnlyList<long> indices, int view) =>
            cell._renderer.Pixels(indices.Select(i => _paths[checked((int)i)]).ToList(), cell._train, view);
    }

    sealed class EvaluationImages(EncoderCellData cell, IReadOnlyList<DatasetItem> items) : IEvaluationImages
    {
        readonly List<string> _paths = items.Select(cell._dataset.PathOf).ToList();
        public int Count => _paths.Count;
        public Tensor Labels { get; } = EncoderCellData.Labels(items);
        public Tensor Images(IReadOnlyList<long> indices) =>
            cell._renderer.Pixels(indices.Select(i => _paths[checked((int)i)]).ToList(), cell._eval, 0);
    }

    /// <summary>
    /// SHA-256 over every pretrained tensor of the model (names, shapes, dtypes and bytes): taken before and after a fit,
    /// it proves the method left the frozen weights bit-identical.
    /// </summary>
    public static string PretrainedFingerprint(TorchSharp.torch.nn.Module model)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (name, t) in model.state_dict().OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes($"{name}|{t.dtype}|{string.Join(',', t.shape)}|"));
            using var contiguous = t.contiguous();
            hash.AppendData(contiguous.bytes);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
