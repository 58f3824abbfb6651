using System.CommandLine;
using Peft.Data.Datasets;
using Peft.Data.Splits;

namespace Peft.Cli.Commands;

/// <summary>
/// <c>peft data split &lt;dataset&gt; --root DIR --shots K --seed S --out FILE [--val-shots N] [--mode dassl]
/// [--format manifest|coop] [--force]</c>: samples a few-shot split exactly as Dassl/CoOp do and writes it.
/// The caller supplies the dataset-name → reader lookup (<c>DatasetRegistry.Get</c>).
/// </summary>
public static class DataSplitCommand
{
    public static Command Create(Func<string, IDatasetReader> resolve)
    {
        ArgumentNullException.ThrowIfNull(resolve);
        var dataset = new Argument<string>("dataset") { Description = "Dataset name (e.g. oxford_pets, imagenet, imagefolder)." };
        var root = new Option<string>("--root") { Required = true, Description = "The dataset folder." };
        var shots = new Option<int>("--shots") { Required = true, Description = "K: training images per class (at least 1)." };
        var seed = new Option<int>("--seed") { Required = true, Description = "Python random seed (CoOp's --seed; runs use 1, 2, 3)." };
        var output = new Option<string>("--out") { Required = true, Description = "File to write." };
        var valShots = new Option<int?>("--val-shots")
        {
            Description = "Validation images per class (default min(K, 4) as in CoOp; 0 keeps the whole validation split, " +
                          "as CoOp does for ImageNet).",
        };
        var mode = new Option<string>("--mode")
        {
            DefaultValueFactory = _ => "dassl",
            Description = "Sampling procedure: dassl (random.seed, then train K-shot, then val, per class random.sample).",
        };
        mode.AcceptOnlyFromAmong("dassl");
        var format = new Option<string>("--format")
        {
            DefaultValueFactory = _ => "manifest",
            Description = "manifest (with sha256) or coop (split_zhou_*.json layout, readable by CoOp's read_split).",
        };
        format.AcceptOnlyFromAmong("manifest", "coop");
        var force = new Option<bool>("--force") { Description = "Replace an existing file that holds a different split." };

        var command = new Command("split",
            "Sample a few-shot split exactly as Dassl/CoOp do (same subsets as theirs) and write it with its sha256.");
        command.Arguments.Add(dataset);
        command.Options.Add(root);
        command.Options.Add(shots);
        command.Options.Add(seed);
        command.Options.Add(output);
        command.Options.Add(valShots);
        command.Options.Add(mode);
        command.Options.Add(format);
        command.Options.Add(force);
        command.SetAction(parse =>
        {
            try
            {
                var reader = resolve(parse.GetValue(dataset)!);
                if (!SamplingModes.TryParse(parse.GetValue(mode), out var samplingMode))
                    throw new ArgumentException($"unknown --mode '{parse.GetValue(mode)}'");
                var request = new FewShotRequest(parse.GetValue(shots), parse.GetValue(seed), samplingMode, parse.GetValue(valShots));
                var fileFormat = parse.GetValue(format) == "coop" ? SplitFileFormat.CoOp : SplitFileFormat.Manifest;
                var outPath = parse.GetValue(output)!;
                var (manifest, outcome) = SplitJob.Run(reader, parse.GetValue(root)!, request, outPath, fileFormat,
                    parse.GetValue(force));
                foreach (var line in SplitJob.Summary(manifest))
                    Console.WriteLine(line);
                var what = fileFormat == SplitFileFormat.CoOp ? "CoOp split file" : "manifest";
                Console.WriteLine(outcome switch
                {
                    WriteOutcome.Created => $"wrote {what} {Path.GetFullPath(outPath)}",
                    WriteOutcome.Replaced => $"replaced {what} {Path.GetFullPath(outPath)}",
                    _ => $"{what} {Path.GetFullPath(outPath)} already holds this split; left unchanged",
                });
                return 0;
            }
            catch (Exception e) when (e is DatasetFormatException or KeyNotFoundException or ArgumentException or IOException
                                              or UnauthorizedAccessException
                                          && Environment.GetEnvironmentVariable("PEFT_DEBUG") is null)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 1;
            }
        });
        return command;
    }
}
