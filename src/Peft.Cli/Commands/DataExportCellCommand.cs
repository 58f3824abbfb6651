using System.CommandLine;
using Peft.Host.Experiments;

namespace Peft.Cli.Commands;

/// <summary>
/// <c>peft data export-cell &lt;experiment&gt; --dataset D --shots K --seed S [--method M] --out FILE.safetensors</c>:
/// one cell's inputs exactly as the runner gives them to the methods, for checking a method against other code.
/// </summary>
public static class DataExportCellCommand
{
    public static Command Create()
    {
        var args = new ExperimentArguments();
        var dataset = new Option<string>("--dataset") { Required = true, Description = "Dataset name as the experiment calls it" };
        var shots = new Option<int>("--shots") { Required = true, Description = "Training images per class (K)" };
        var seed = new Option<int>("--seed") { Required = true, Description = "The cell's seed (split and augmented views)" };
        var method = new Option<string?>("--method") { Description = "A method of the experiment: its training transform renders the views, its options go into the sidecar (needed when methods train on different transforms)" };
        var output = new Option<string>("--out") { Required = true, Description = "File to write (.safetensors; the sidecar is written beside it as .json)" };
        var command = new Command("export-cell",
            "Export one cell's inputs (train, validation and test features and labels, augmented training views, class names, " +
            "zero-shot text weights per template set) as a 'features' dataset file, with a JSON sidecar (split hash, cache key, options).")
        {
            dataset, shots, seed, method, output,
        };
        command.Add(args.File);
        command.Add(args.Set);
        command.Add(args.Plugins);
        command.SetAction(parse =>
        {
            var spec = args.ReadSpec(parse.GetValue(args.File)!, parse);
            var r = CellExporter.Export(spec, parse.GetValue(dataset)!, parse.GetValue(shots), parse.GetValue(seed), parse.GetValue(method), parse.GetValue(output)!);
            Console.WriteLine($"cell {parse.GetValue(dataset)} {parse.GetValue(shots)}-shot seed {parse.GetValue(seed)}: train {r.Train}, val {r.Val}, test {r.Test}, {r.Views} views");
            Console.WriteLine($"split {r.SplitSha256[..12]}, feature cache key {r.FeatureCacheKey}");
            Console.WriteLine($"wrote {r.FeaturesPath}");
            Console.WriteLine($"      {r.SidecarPath}");
            return 0;
        });
        return command;
    }
}
