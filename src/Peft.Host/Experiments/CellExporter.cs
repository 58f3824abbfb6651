using System.Globalization;
using System.Text;
using System.Text.Json;
using Peft.Core;
using Peft.Data.Datasets;
using Peft.Data.Features;
using Peft.Host.Methods;
using Peft.IO;
using static TorchSharp.torch;
using Peft.Tensors;

namespace Peft.Host.Experiments;

/// <summary>
/// <c>peft data export-cell</c>: one cell's inputs as the runner gives them to the methods (<see cref="CellInputs"/>),
/// in a <c>features</c> dataset file that other code can read and that an experiment can run on: train, validation
/// and test features and labels, the augmented training views, class names, templates, and the zero-shot text
/// weights of every template set (<c>text_weights.&lt;set&gt;</c>; <c>text_weights</c> = the dataset's own, and
/// <c>text_embeddings</c> its unnormalised per-template text features [C, T, D]). A JSON
/// sidecar (same name, <c>.json</c>) records the split hash, the feature-cache key and the options.
/// </summary>
public static class CellExporter
{
    public sealed record Result(string FeaturesPath, string SidecarPath, string SplitSha256, string FeatureCacheKey, int Train, int Val, int Test, int Views);

    public static Result Export(ExperimentSpec spec, string datasetName, int shots, int seed, string? methodName, string outPath,
        Func<string, IDatasetReader>? resolve = null, CancellationToken cancel = default)
    {
        var ds = spec.Datasets.FirstOrDefault(d => d.Name == datasetName)
                 ?? throw new ArgumentException($"--dataset '{datasetName}' is not in experiment '{spec.Name}'; its datasets: {string.Join(", ", spec.Datasets.Select(d => d.Name))}");
        if (shots < 1) throw new ArgumentException($"--shots must be at least 1 (got {shots})");
        MethodSpec? method = methodName is null ? null
            : spec.Methods.FirstOrDefault(m => string.Equals(m.Name, methodName, StringComparison.OrdinalIgnoreCase))
              ?? throw new ArgumentException($"--method '{methodName}' is not in experiment '{spec.Name}'; its methods: {string.Join(", ", spec.Methods.Select(m => m.Name))}");
        var full = Path.GetFullPath(outPath);
        var sidecar = Path.ChangeExtension(full, ".json");
        if (sidecar == full) throw new ArgumentException($"--out '{outPath}': use a .safetensors name (the sidecar is written beside it as .json)");

        // The views of the method's training transform (or the one all the experiment's view-reading methods share).
        var transforms = CellInputs.TransformsOf(spec, method is null ? spec.Methods.Select(m => m.Name) : [method.Name]);
        if (transforms.Count > 1)
            throw new ArgumentException($"the methods of experiment '{spec.Name}' train on different transforms ({string.Join(", ", transforms.Select(t => $"{t.Method}: {t.Transform.Name}"))}); name one with --method");

        using var session = new BackboneSession(spec);
        var transform = transforms.Count == 1 ? session.Spec(transforms[0]) : null;
        var cacheKey = session.FeatureCacheKeyFor(transform ?? MethodAugmentation.ToSpec(TrainingAugmentation.Fallback, session.ImageSize));
        var dataset = (resolve ?? DatasetRegistry.Get)(ds.Type).Read(ds.Root);
        var split = CellData.Split(spec, dataset, shots, seed);
        using var features = CellData.Features(spec, session, dataset, split, cancel);
        using var scope = NewDisposeScope();

        var tensors = new List<KeyValuePair<string, Tensor>>
        {
            new("train_features", features.TrainFeatures()), new("train_labels", features.TrainLabels),
            new("val_features", features.ValFeatures()), new("val_labels", features.ValLabels),
            new("test_features", features.TestFeatures()), new("test_labels", features.TestLabels),
        };
        int views = 0;
        if (spec.TrainViews > 0 && transform is not null && !(features is PrecomputedTaskFeatures p && !p.HasViews))
        {
            tensors.Add(new(FeaturesDatasetReader.ViewsKey, features.TrainViews(transform, spec.TrainViews)));
            views = spec.TrainViews;
        }
        var weights = new Dictionary<string, string>();
        foreach (var set in PromptTemplates.SetNames)
        {
            var templates = PromptTemplates.Resolve(set, dataset.Templates);
            var w = TextClassifier.Build(session.TextEncoder, session.Tokenizer, dataset.ClassNames, templates);
            tensors.Add(new($"text_weights.{set}", w));
            if (set == "dataset")
            {
                tensors.Add(new("text_weights", w));
                // unnormalised per-template features [C, T, D], for code that starts from them (TaskRes's base)
                tensors.Add(new("text_embeddings", TextClassifier.Embeddings(session.TextEncoder, session.Tokenizer, dataset.ClassNames, templates)));
            }
            weights[$"text_weights.{set}"] = JsonSerializer.Serialize(templates);
        }

        string Text(int v) => v.ToString(CultureInfo.InvariantCulture);
        var metadata = new Dictionary<string, string>
        {
            [PrecomputedFeatures.ClassNamesKey] = JsonSerializer.Serialize(dataset.ClassNames),
            [FeaturesDatasetReader.TemplatesKey] = JsonSerializer.Serialize(dataset.Templates),
            [FeaturesDatasetReader.ShotsKey] = Text(split.Shots),
            ["val_shots"] = Text(split.ValShots),
            ["seed"] = Text(seed),
            ["dataset"] = ds.Name,
            [FeaturesDatasetReader.BackboneKey] = session.Cache.BackboneFingerprint,
            ["split_sha256"] = split.Sha256,
            ["feature_cache_key"] = cacheKey,
        };
        if (views > 0) metadata[FeaturesDatasetReader.ViewsTransformKey] = transform!.Key;
        Peft.Tensors.SafeTensorsFile.Write(full, tensors, metadata);

        var info = new
        {
            format = "peft.cell-export", version = 1,
            experiment = spec.Name, experiment_file = spec.SourcePath,
            dataset = ds.Name, dataset_type = ds.Type, dataset_root = ds.Root,
            shots = split.Shots, seed, val_shots = split.ValShots, sampling = split.Sampling.ToString().ToLowerInvariant(),
            split_sha256 = split.Sha256, feature_cache_key = cacheKey,
            backbone = spec.Backbone.Model, backbone_fingerprint = session.Cache.BackboneFingerprint, dtype = spec.Backbone.Dtype,
            preprocess = spec.Backbone.Preprocess, augmentation = transforms.Count == 1 ? transforms[0].ToString() : null,
            augmentation_spec = views > 0 ? transform!.Key : null, train_views = views,
            train = split.Train.Count, val = split.Val.Count, test = split.Test.Count,
            class_names = dataset.ClassNames, templates = dataset.Templates, text_weights = weights.ToDictionary(kv => kv.Key, kv => JsonSerializer.Deserialize<List<string>>(kv.Value)),
            train_items = split.Train.Select(i => i.ImagePath), val_items = split.Val.Select(i => i.ImagePath), test_items = split.Test.Select(i => i.ImagePath),
            method = method is null ? null : new
            {
                name = method.Name,
                points = method.Points.Select(pt => pt.OptionValues),
            },
            features = Path.GetFileName(full),
        };
        AtomicFile.Replace(sidecar, Encoding.UTF8.GetBytes(JsonSerializer.Serialize(info, new JsonSerializerOptions { WriteIndented = true }) + "\n"));
        return new Result(full, sidecar, split.Sha256, cacheKey, split.Train.Count, split.Val.Count, split.Test.Count, views);
    }
}
