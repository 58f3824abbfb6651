using System.Diagnostics;
using Peft.Tests.Host;

namespace Peft.Tests.Cli;

/// <summary>Two processes filling one feature cache at the same time, then a third that finds everything cached.</summary>
public sealed class DataFeaturesCommandTests() : TempDirectory("peft-features-cli-")
{
    [Fact]
    public async Task ConcurrentProcessesFillOneCacheAndALaterRunEncodesNothing()
    {
        var world = Temp("world");
        var (code, _, stderr) = PeftProcess.Run("data", "synth", "--out", world, "--pretrain", "10",
            "--train-per-class", "5", "--val-per-class", "2", "--test-per-class", "3", "--image-size", "48");
        Assert.True(code == 0, stderr);
        var model = RandomClip.Save(Temp("model.safetensors"), RandomClip.SmallViT, seed: 9);
        string[] args = ["data", "features", "coop_layout", "--root", Path.Combine(world, "synth_shapes"), "--model", model,
            "--shots", "4", "--seed", "1", "--views", "3", "--cache-dir", Temp("cache"), "--batch-size", "8"];

        var both = await Task.WhenAll(Task.Run(() => PeftProcess.Run(args)), Task.Run(() => PeftProcess.Run(args)));
        foreach (var run in both) Assert.True(run.exitCode == 0, run.stderr);

        var (again, stdout, err) = PeftProcess.Run(args);
        Assert.True(again == 0, err);
        // 10 classes: test 30, val 20, train 40 + 3 views x 40 = 210 entries, all cached now.
        Assert.Contains("0 encoded, 210 already cached", stdout);
        Assert.Contains("(reused)", stdout);
        // Packed: one segment per split and view from each process that encoded it (the evaluation view of test, val
        // and train, and 3 training views), not one file per image and view.
        var segments = Directory.GetFiles(Temp("cache"), "*.safetensors", SearchOption.AllDirectories);
        Assert.InRange(segments.Length, 6, 12);
        Assert.Empty(Directory.GetFiles(Temp("cache"), "*.v0.safetensors", SearchOption.AllDirectories));
        Assert.Empty(Directory.GetFiles(Temp("cache"), "*.tmp", SearchOption.AllDirectories));
    }
}
