using System.CommandLine;
using Peft.Terminal;
using Peft.Data.Synthetic;

namespace Peft.Cli.Commands;

/// <summary><c>peft data synth</c>: writes the synthetic world (captioned pretraining images and three downstream tasks).</summary>
public static class DataSynthCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out") { Description = "Output folder (empty, absent, or an earlier synth output, which is replaced)", Required = true };
        var seed = new Option<int>("--seed") { Description = "Seed: the same seed and options give byte-identical files", DefaultValueFactory = _ => 1 };
        var size = new Option<int>("--image-size") { Description = "Image side in pixels", DefaultValueFactory = _ => 64 };
        var pretrain = new Option<int>("--pretrain") { Description = "Captioned pretraining images", DefaultValueFactory = _ => 20_000 };
        var train = new Option<int>("--train-per-class") { Description = "Training images per class of each task (few-shot picks K of them)", DefaultValueFactory = _ => 100 };
        var val = new Option<int>("--val-per-class") { Description = "Validation images per class of each task", DefaultValueFactory = _ => 20 };
        var test = new Option<int>("--test-per-class") { Description = "Test images per class of each task", DefaultValueFactory = _ => 50 };
        var threads = new Option<int?>("--threads") { Description = "Rendering threads (default: all cores; does not change the output)" };

        var command = new Command("synth", "Generate the synthetic world: captioned shape images for pretraining and the synth_shapes, synth_fine and synth_shift tasks.")
        {
            output, seed, size, pretrain, train, val, test, threads,
        };
        command.SetAction(parse =>
        {
            var options = new SyntheticWorldOptions
            {
                Seed = parse.GetValue(seed),
                ImageSize = parse.GetValue(size),
                PretrainCount = parse.GetValue(pretrain),
                TrainPerClass = parse.GetValue(train),
                ValPerClass = parse.GetValue(val),
                TestPerClass = parse.GetValue(test),
                Threads = parse.GetValue(threads),
            };
            SyntheticWorldResult result;
            using (var bar = new ConsoleProgress("render", null, "images", Console.Error))
                result = SyntheticWorld.Generate(parse.GetValue(output)!, options, progress: (done, total) => { bar.Total = total; bar.Report(done); });
            Console.WriteLine($"wrote {result.PretrainImages} captioned pretraining images and {result.TaskImages} task images " +
                              $"({result.Bytes / 1e6:F1} MB, {options.ImageSize}×{options.ImageSize}) to {result.OutDir} in {result.Elapsed.TotalSeconds:F1} s");
            foreach (var task in SyntheticWorld.Tasks)
                Console.WriteLine($"  {task.Name}: {task.ClassNames.Count} classes × {options.TrainPerClass}/{options.ValPerClass}/{options.TestPerClass} (train/val/test)");
            Console.WriteLine($"  manifest: {result.ManifestPath}");
            return 0;
        });
        return command;
    }
}
