using System.CommandLine;
using Peft.Data.Datasets;
using Peft.Host;
using Peft.Host.FeatureExtraction;
using Peft.Models;
using Peft.Terminal;
using static TorchSharp.torch;
using Peft.IO;

namespace Peft.Cli.Commands;

/// <summary><c>peft data features</c>: fill the feature cache for one split ahead of an experiment (or on many machines).</summary>
public static class DataFeaturesCommand
{
    public static Command Create(Func<string, IDatasetReader> resolve)
    {
        var dataset = new Argument<string>("dataset") { Description = "Dataset name (oxford_pets, imagefolder, coop_layout, ...)" };
        var root = new Option<string>("--root") { Description = "Dataset folder (or CoOp's $DATA)", Required = true };
        var model = new Option<string>("--model") { Description = "CLIP checkpoint (any format `peft encode` reads, or a bundled tiny CLIP: tiny-clip, tiny-clip-vit)", Required = true };
        var shots = new Option<int>("--shots") { Description = "Training images per class (K)", Required = true };
        var seed = new Option<int>("--seed") { Description = "Split and augmentation seed", DefaultValueFactory = _ => 1 };
        var views = new Option<int>("--views") { Description = "Augmented training views per image", DefaultValueFactory = _ => 10 };
        var augmentation = new Option<string>("--augmentation") { Description = "tip: RandomResizedCrop scale 0.5-1 (Tip-Adapter); dassl: 0.08-1 (CoOp); flip: the centre crop mirrored (cross-modal)", DefaultValueFactory = _ => "tip" };
        augmentation.AcceptOnlyFromAmong("tip", "dassl", "flip");
        var cacheDir = new Option<string?>("--cache-dir") { Description = $"Cache folder (default {PeftHome.Resolve("cache")}; features/ and splits/ inside)" };
        var batch = new Option<int>("--batch-size") { DefaultValueFactory = _ => 32, Description = "Images per forward pass" };
        var dtype = new Option<string>("--dtype") { DefaultValueFactory = _ => "fp32", Description = "fp32 or bf16" };
        dtype.AcceptOnlyFromAmong("fp32", "bf16");

        var command = new Command("features", "Compute and cache the frozen features of one few-shot split: test, validation, training, and augmented training views.")
        {
            dataset, root, model, shots, seed, views, augmentation, cacheDir, batch, dtype,
        };
        command.SetAction(parse =>
        {
            var options = new CacheFillOptions
            {
                Dataset = parse.GetValue(dataset)!, Root = parse.GetValue(root)!, ModelPath = BundledModels.Resolve(parse.GetValue(model)!),
                Shots = parse.GetValue(shots), Seed = parse.GetValue(seed), Views = parse.GetValue(views),
                Augmentation = parse.GetValue(augmentation)!, BatchSize = parse.GetValue(batch),
                ComputeType = parse.GetValue(dtype) == "bf16" ? ScalarType.BFloat16 : ScalarType.Float32,
            };
            if (parse.GetValue(cacheDir) is { } dir) options = options with { CacheDir = dir };
            var bars = new Dictionary<string, ConsoleProgress>();
            try
            {
                var result = new CacheFillJob(options, resolve)
                {
                    Progress = (stage, done, total) =>
                    {
                        if (!bars.TryGetValue(stage, out var bar)) bars[stage] = bar = new ConsoleProgress($"encode {stage}", total, "images");
                        bar.Report(done);
                    },
                }.Run();
                foreach (var bar in bars.Values) bar.Dispose();
                bars.Clear();
                Console.WriteLine($"split {result.Split.Sha256[..12]} ({(result.SplitCreated ? "created" : "reused")}): " +
                                  $"train {result.Split.Train.Count}, val {result.Split.Val.Count}, test {result.Split.Test.Count}");
                Console.WriteLine($"backbone {result.Fingerprint[..12]}: {result.Encoded} encoded, {result.Cached} already cached, in {result.Elapsed.TotalSeconds:F1} s");
                Console.WriteLine($"cache: {options.CacheDir}");
                return 0;
            }
            finally
            {
                foreach (var bar in bars.Values) bar.Dispose();
            }
        });
        return command;
    }
}
