using System.CommandLine;
using Peft.Pretraining;
using Peft.Terminal;

namespace Peft.Cli.Commands;

/// <summary><c>peft pretrain</c>: contrastive pretraining of a tiny CLIP on the synthetic world (recipe in experiments/).</summary>
public static class PretrainCommand
{
    public static Command Create()
    {
        var recipe = new Option<string>("--recipe") { Description = "Recipe JSON (e.g. experiments/pretrain-tiny.json)", Required = true };
        var data = new Option<string>("--data") { Description = "Output folder of 'peft data synth' (pretrain/captions.jsonl and the synth_* tasks)", Required = true };
        var output = new Option<string?>("--out") { Description = "Checkpoint to write (.safetensors, OpenAI names; read by every --model option)" };
        var epochs = new Option<int?>("--epochs") { Description = "Override the recipe's epochs" };
        var threads = new Option<int?>("--threads") { Description = "Override the recipe's thread count (results are reproducible only for the same count)" };
        var seed = new Option<int?>("--seed") { Description = "Override the recipe's seed" };
        var batch = new Option<int?>("--batch-size") { Description = "Override the recipe's batch size" };
        var maxImages = new Option<int?>("--max-images") { Description = "Override data.max_images (use only the first N captioned images; 0 = all)" };

        var command = new Command("pretrain", "Pretrain a tiny CLIP contrastively on the synthetic world's captioned images, then report zero-shot accuracy on its tasks.")
        {
            recipe, data, output, epochs, threads, seed, batch, maxImages,
        };
        command.SetAction(parse =>
        {
            var r = PretrainRecipe.Load(parse.GetValue(recipe)!);
            if (parse.GetValue(epochs) is int e) r = r with { Epochs = e };
            if (parse.GetValue(threads) is int t) r = r with { Threads = t };
            if (parse.GetValue(seed) is int s) r = r with { Seed = s };
            if (parse.GetValue(batch) is int b) r = r with { BatchSize = b };
            if (parse.GetValue(maxImages) is int m) r = r with { Data = r.Data with { MaxImages = m } };
            r.Validate("command line");
            var trainer = new ClipPretrainer(r)
            {
                Log = Console.Out, Progress = (label, total, unit) => new BarStage(new ConsoleProgress(label, total, unit)),
            };
            var result = trainer.Run(parse.GetValue(data)!, parse.GetValue(output));
            Console.WriteLine($"done: {result.Epochs.Count} epochs, final loss {result.Epochs[^1].MeanLoss:F4}, " +
                              $"data {result.DataTime.TotalSeconds:F1} s, training {result.TrainTime.TotalSeconds:F1} s " +
                              $"({result.TrainTime.TotalSeconds / result.Epochs.Count:F1} s/epoch), wall time {result.Elapsed.TotalSeconds:F1} s");
            foreach (var z in result.ZeroShot)
                Console.WriteLine($"  zero-shot {z.Task}: {z.Accuracy * 100:F2}%");
            return 0;
        });
        return command;
    }
}

/// <summary>A console bar as a pretraining stage's progress.</summary>
sealed class BarStage(ConsoleProgress bar) : IStageProgress
{
    public void Report(long done) => bar.Report(done);
    public void Dispose() => bar.Dispose();
}
