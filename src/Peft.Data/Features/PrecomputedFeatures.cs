using System.Text.Json;
using Peft.Data.Datasets;
using TorchSharp;
using static TorchSharp.torch;
using Peft.Tensors;

namespace Peft.Data.Features;

/// <summary>
/// Pre-extracted image features (and optionally class text weights) in one safetensors file:
/// <list type="bullet">
/// <item><c>test_features</c> [N, D] and <c>test_labels</c> [N] — required;</item>
/// <item><c>train_features</c>/<c>train_labels</c> and <c>val_features</c>/<c>val_labels</c> — each pair optional (absent = empty [0, D]);</item>
/// <item><c>text_weights</c> [C, D] — optional (e.g. zero-shot classifier weights, one row per class);</item>
/// <item><c>__metadata__</c>: <c>classnames</c> = a JSON array of the C class names in label order (required); other metadata is kept in <see cref="Metadata"/>.</item>
/// </list>
/// Features are F32, F16, BF16 or F64 and are kept in their stored dtype; labels must be I64 in [0, C). All splits and
/// <c>text_weights</c> share D. Other keys are ignored. Tensors are on the CPU and owned by this object (dispose it).
/// </summary>
public sealed record PrecomputedFeatures(
    Tensor TrainFeatures, Tensor TrainLabels,
    Tensor ValFeatures, Tensor ValLabels,
    Tensor TestFeatures, Tensor TestLabels,
    Tensor? TextWeights,
    IReadOnlyList<string> ClassNames) : IDisposable
{
    public const string ClassNamesKey = "classnames";

    /// <summary>Other <c>__metadata__</c> entries of the file (besides <c>classnames</c>).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>();

    public int NumClasses => ClassNames.Count;
    public long Dim => TestFeatures.shape[1];

    static readonly ScalarType[] FeatureTypes = [ScalarType.Float32, ScalarType.Float16, ScalarType.BFloat16, ScalarType.Float64];

    /// <summary>Reads and validates a features file; every error names the file and the key.</summary>
    public static PrecomputedFeatures Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
            throw new DatasetFormatException(path, "features file not found");
        List<SafeTensorsFile.Entry> entries;
        Dictionary<string, string> metadata;
        try
        {
            (entries, metadata, _) = SafeTensorsFile.ReadHeader(path);
        }
        catch (TensorFileException e)
        {
            throw new DatasetFormatException(path, e.Message.StartsWith(path + ": ", StringComparison.Ordinal) ? e.Message[(path.Length + 2)..] : e.Message, e);
        }
        var byName = entries.ToDictionary(e => e.Name, StringComparer.Ordinal);

        if (!metadata.TryGetValue(ClassNamesKey, out var namesJson))
            throw new DatasetFormatException(path, $"__metadata__ has no '{ClassNamesKey}' (a JSON array of the class names in label order)");
        List<string> classNames;
        try
        {
            classNames = JsonSerializer.Deserialize<List<string>>(namesJson) ?? throw new JsonException("null");
        }
        catch (JsonException e)
        {
            throw new DatasetFormatException(path, $"__metadata__.{ClassNamesKey} is not a JSON array of strings: {e.Message}", e);
        }
        if (classNames.Count == 0)
            throw new DatasetFormatException(path, $"__metadata__.{ClassNamesKey} is empty");
        if (classNames.Any(n => n is null))
            throw new DatasetFormatException(path, $"__metadata__.{ClassNamesKey} contains null");

        // Shapes and dtypes from the header, before any data is read.
        long dim = -1;
        string? dimFrom = null;
        void CheckFeatures(string key, SafeTensorsFile.Entry e)
        {
            if (!FeatureTypes.Contains(e.DType))
                throw new DatasetFormatException(path, $"key '{key}': dtype {e.DType} is not a floating-point type (F32, F16, BF16, F64)");
            if (e.Shape.Length != 2)
                throw new DatasetFormatException(path, $"key '{key}': shape [{string.Join(", ", e.Shape)}] is not 2-D [N, D]");
            if (dim < 0) { dim = e.Shape[1]; dimFrom = key; }
            else if (e.Shape[1] != dim)
                throw new DatasetFormatException(path, $"key '{key}': feature dimension {e.Shape[1]} differs from {dim} in '{dimFrom}'");
        }

        var splits = new[] { "train", "val", "test" };
        foreach (var split in splits)
        {
            bool hasF = byName.TryGetValue($"{split}_features", out var f), hasL = byName.TryGetValue($"{split}_labels", out var l);
            if (!hasF && !hasL)
            {
                if (split == "test")
                    throw new DatasetFormatException(path, "missing key 'test_features' (and 'test_labels')");
                continue;
            }
            if (hasF != hasL)
                throw new DatasetFormatException(path, $"key '{split}_{(hasF ? "labels" : "features")}' is missing while '{split}_{(hasF ? "features" : "labels")}' is present");
            CheckFeatures($"{split}_features", f!);
            if (l!.DType != ScalarType.Int64)
                throw new DatasetFormatException(path, $"key '{split}_labels': dtype {l.DType}, expected int64 (I64)");
            if (l.Shape.Length != 1 || l.Shape[0] != f!.Shape[0])
                throw new DatasetFormatException(path, $"key '{split}_labels': shape [{string.Join(", ", l.Shape)}] does not match the {f!.Shape[0]} rows of '{split}_features'");
        }
        if (byName.TryGetValue("text_weights", out var tw))
        {
            CheckFeatures("text_weights", tw);
            if (tw.Shape[0] != classNames.Count)
                throw new DatasetFormatException(path, $"key 'text_weights': {tw.Shape[0]} rows but {classNames.Count} class names");
        }

        var wanted = new HashSet<string>(splits.SelectMany(s => new[] { $"{s}_features", $"{s}_labels" }).Append("text_weights"), StringComparer.Ordinal);
        StateDict sd;
        try
        {
            sd = SafeTensorsFile.Read(path, wanted.Contains);
        }
        catch (TensorFileException e)
        {
            throw new DatasetFormatException(path, e.Message, e);
        }
        var owned = new List<Tensor>();
        try
        {
            Tensor Take(string key, Func<Tensor> empty)
            {
                var t = sd.TryGet(key, out var x) ? x.alias() : empty();
                owned.Add(t);
                return t;
            }
            var featType = byName[$"test_features"].DType;
            Tensor[] parts = new Tensor[6];
            for (int s = 0; s < 3; s++)
            {
                parts[2 * s] = Take($"{splits[s]}_features", () => zeros(0, dim, featType));
                parts[2 * s + 1] = Take($"{splits[s]}_labels", () => zeros(0, ScalarType.Int64));
                var labels = parts[2 * s + 1];
                if (labels.shape[0] > 0)
                {
                    using var scope = NewDisposeScope();
                    var outside = labels.lt(0).logical_or(labels.ge(classNames.Count)).nonzero();
                    if (outside.shape[0] > 0)
                    {
                        long at = outside[0, 0].item<long>();
                        throw new DatasetFormatException(path, $"key '{splits[s]}_labels': label {labels[at].item<long>()} at index {at} is outside [0, {classNames.Count}) ({outside.shape[0]} such label{(outside.shape[0] > 1 ? "s" : "")})");
                    }
                }
            }
            Tensor? text = sd.Contains("text_weights") ? Take("text_weights", null!) : null;
            var meta = metadata.Where(kv => kv.Key != ClassNamesKey).ToDictionary(kv => kv.Key, kv => kv.Value);
            return new PrecomputedFeatures(parts[0], parts[1], parts[2], parts[3], parts[4], parts[5], text, classNames) { Metadata = meta };
        }
        catch
        {
            foreach (var t in owned) t.Dispose();
            throw;
        }
        finally
        {
            sd.Dispose();
        }
    }

    /// <summary>Writes the file in the format <see cref="Load"/> reads (empty train/val splits are written as [0, D] tensors).</summary>
    public void Save(string path)
    {
        var tensors = new List<KeyValuePair<string, Tensor>>
        {
            new("train_features", TrainFeatures), new("train_labels", TrainLabels),
            new("val_features", ValFeatures), new("val_labels", ValLabels),
            new("test_features", TestFeatures), new("test_labels", TestLabels),
        };
        if (TextWeights is not null) tensors.Add(new("text_weights", TextWeights));
        var meta = new Dictionary<string, string>(Metadata) { [ClassNamesKey] = JsonSerializer.Serialize(ClassNames) };
        SafeTensorsFile.Write(path, tensors, meta);
    }

    public void Dispose()
    {
        TrainFeatures.Dispose(); TrainLabels.Dispose();
        ValFeatures.Dispose(); ValLabels.Dispose();
        TestFeatures.Dispose(); TestLabels.Dispose();
        TextWeights?.Dispose();
    }
}
