using System.Globalization;
using System.Text.Json;
using Peft.Data.Features;
using Peft.Data.Splits;
using static TorchSharp.torch;
using Peft.Tensors;

namespace Peft.Data.Datasets;

/// <summary>
/// The <c>features</c> dataset type: precomputed image features in one safetensors file (the format of
/// <see cref="PrecomputedFeatures"/>, plus the optional keys below), so methods run on supplied features without
/// images. The root is the file. Items are the file's rows, named <c>train/&lt;row&gt;</c>, <c>val/&lt;row&gt;</c>,
/// <c>test/&lt;row&gt;</c>; the host reads their features from the file instead of encoding images.
/// <list type="bullet">
/// <item><c>train_views</c> [V, N_train, D] (optional): augmented training views, view v of train row i;</item>
/// <item><c>__metadata__.train_views_transform</c> (optional): the transform that rendered them; a method whose
/// training transform differs is refused rather than given other views;</item>
/// <item><c>__metadata__.templates</c> (optional): a JSON array of prompt templates with one <c>{}</c>; default
/// <c>["a photo of a {}."]</c>;</item>
/// <item><c>__metadata__.shots</c> (optional): the train and val splits are already one few-shot cell (what
/// <c>peft data export-cell</c> writes) and are used as stored, in their order; an experiment may then only ask for
/// that many shots. Without it, K-shot train and validation splits are drawn from the file's splits as for images.</item>
/// <item><c>__metadata__.backbone_fingerprint</c> (optional): the backbone the features came from; the experiment's
/// backbone (still needed for the text tower) must have the same fingerprint.</item>
/// </list>
/// </summary>
public sealed class FeaturesDatasetReader : IDatasetReader
{
    public const string TypeName = "features";
    public const string TemplatesKey = "templates";
    public const string ShotsKey = "shots";
    public const string BackboneKey = "backbone_fingerprint";
    public const string ViewsKey = "train_views";
    /// <summary>Metadata: the training transform's <c>AugmentationSpec.Key</c> that rendered <c>train_views</c>.</summary>
    public const string ViewsTransformKey = "train_views_transform";
    static readonly string[] DefaultTemplates = ["a photo of a {}."];

    public string Name => TypeName;
    public string Description => "precomputed image features (safetensors: {train,val,test}_features/_labels, optional train_views; metadata classnames); root = the file";
    public bool RootIsFile => true;

    public ImageDataset Read(string root)
    {
        var path = Path.GetFullPath(root);
        var (names, metadata) = Header(path);
        IReadOnlyList<string> templates = DefaultTemplates;
        if (metadata.TryGetValue(TemplatesKey, out var json))
        {
            try { templates = JsonSerializer.Deserialize<List<string>>(json) ?? throw new JsonException("null"); }
            catch (JsonException e) { throw new DatasetFormatException(path, $"__metadata__.{TemplatesKey} is not a JSON array of strings: {e.Message}", e); }
            if (templates.Count == 0 || templates.Any(t => t is null || !t.Contains("{}")))
                throw new DatasetFormatException(path, $"__metadata__.{TemplatesKey} must list at least one template, each with '{{}}' for the class name");
        }
        StoredShots(path, metadata); // validates the value
        var labels = ReadLabels(path, names.Count);
        IReadOnlyList<DatasetItem> Items(string split) => labels.TryGetValue(split, out var l)
            ? l.Select((label, row) => new DatasetItem($"{split}/{row}", label, names[label])).ToArray()
            : [];
        return new ImageDataset
        {
            Name = TypeName, Root = path, ImageRoot = Path.GetDirectoryName(path)!, ClassNames = names, Templates = templates,
            Train = Items("train"), Val = Items("val"), Test = Items("test"),
        };
    }

    /// <summary>The row of an item of a features dataset (<c>train/12</c> → 12).</summary>
    public static int RowOf(DatasetItem item) =>
        int.Parse(item.ImagePath.AsSpan(item.ImagePath.IndexOf('/') + 1), CultureInfo.InvariantCulture);

    /// <summary>
    /// The split of one cell: the file's own when it declares <c>shots</c> (then <paramref name="request"/> must ask
    /// for that many), otherwise drawn and stored by <paramref name="store"/> as for an image dataset.
    /// </summary>
    public static SplitManifest Split(ImageDataset dataset, FewShotRequest request, SplitStore store)
    {
        var (_, metadata) = Header(dataset.Root);
        if (StoredShots(dataset.Root, metadata) is not int shots)
            return store.GetOrCreate(dataset, request, out _);
        if (request.Shots != shots)
            throw new DatasetFormatException(dataset.Root, $"holds one {shots}-shot cell (__metadata__.{ShotsKey}); it cannot give {request.Shots} shots");
        int? valShots = metadata.TryGetValue("val_shots", out var v) && int.TryParse(v, CultureInfo.InvariantCulture, out var vs) ? vs : null;
        return new SplitManifest(dataset.Name, dataset.Root, DateTimeOffset.UtcNow, SamplingMode.Imported, shots, request.Seed,
            valShots ?? Math.Min(shots, 4), dataset.ClassNames, dataset.Train, dataset.Val, dataset.Test, [], dataset.Root);
    }

    /// <summary>The file's <c>backbone_fingerprint</c>, if it has one.</summary>
    public static string? BackboneFingerprint(string path) => Header(path).metadata.GetValueOrDefault(BackboneKey);

    /// <summary>The transform key that rendered the file's <c>train_views</c>, when the file records it.</summary>
    public static string? ViewsTransform(string path) => Header(path).metadata.GetValueOrDefault(ViewsTransformKey);

    static int? StoredShots(string path, IReadOnlyDictionary<string, string> metadata)
    {
        if (!metadata.TryGetValue(ShotsKey, out var text)) return null;
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var k) && k >= 1
            ? k : throw new DatasetFormatException(path, $"__metadata__.{ShotsKey} is '{text}', not a whole number ≥ 1");
    }

    static (IReadOnlyList<string> names, Dictionary<string, string> metadata) Header(string path)
    {
        if (!File.Exists(path)) throw new DatasetFormatException(path, "features file not found");
        Dictionary<string, string> metadata;
        try { (_, metadata, _) = SafeTensorsFile.ReadHeader(path); }
        catch (TensorFileException e) { throw new DatasetFormatException(path, e.Message, e); }
        if (!metadata.TryGetValue(PrecomputedFeatures.ClassNamesKey, out var json))
            throw new DatasetFormatException(path, $"__metadata__ has no '{PrecomputedFeatures.ClassNamesKey}' (a JSON array of the class names in label order)");
        List<string>? names;
        try { names = JsonSerializer.Deserialize<List<string>>(json); }
        catch (JsonException e) { throw new DatasetFormatException(path, $"__metadata__.{PrecomputedFeatures.ClassNamesKey} is not a JSON array of strings: {e.Message}", e); }
        if (names is null || names.Count == 0 || names.Any(n => n is null))
            throw new DatasetFormatException(path, $"__metadata__.{PrecomputedFeatures.ClassNamesKey} must list at least one class name");
        return (names, metadata);
    }

    /// <summary>Labels per split, checked by <see cref="PrecomputedFeatures.Load"/> (shapes, dtypes, range).</summary>
    static Dictionary<string, int[]> ReadLabels(string path, int classes)
    {
        using var scope = NewDisposeScope();
        using var features = PrecomputedFeatures.Load(path);
        var result = new Dictionary<string, int[]>();
        foreach (var (split, labels) in new[] { ("train", features.TrainLabels), ("val", features.ValLabels), ("test", features.TestLabels) })
            if (labels.shape[0] > 0) result[split] = labels.data<long>().Select(l => (int)l).ToArray();
        if (!result.ContainsKey("train"))
            throw new DatasetFormatException(path, "has no train_features: a method needs training features");
        return result;
    }
}
