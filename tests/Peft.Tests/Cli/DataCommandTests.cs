using System.Text.Json;

namespace Peft.Tests.Cli;

/// <summary>The data commands end to end, as a user runs them: synth → check → split.</summary>
public sealed class DataCommandTests() : TempDirectory("peft-data-cli-")
{
    [Fact]
    public void SynthThenCheckThenSplit()
    {
        var world = Temp("world");
        var (code, stdout, stderr) = PeftProcess.Run("data", "synth", "--out", world, "--pretrain", "40",
            "--train-per-class", "6", "--val-per-class", "2", "--test-per-class", "3", "--image-size", "32");
        Assert.True(code == 0, stderr);
        Assert.Contains("synth_shift", stdout);

        (code, stdout, stderr) = PeftProcess.Run("data", "check", Path.Combine(world, "synth_fine"));
        Assert.True(code == 0, stderr + stdout);
        Assert.Contains("result:      OK", stdout);
        Assert.Contains("train 72, val 24, test 36", stdout);

        var manifest = Temp("split.json");
        (code, stdout, stderr) = PeftProcess.Run("data", "split", "coop_layout", "--root", Path.Combine(world, "synth_fine"),
            "--shots", "4", "--seed", "2", "--out", manifest);
        Assert.True(code == 0, stderr);
        using var json = JsonDocument.Parse(File.ReadAllText(manifest));
        Assert.Equal(48, json.RootElement.GetProperty("train").GetArrayLength()); // 12 classes × 4 shots
        Assert.Equal(24, json.RootElement.GetProperty("val").GetArrayLength());   // min(4, 4) shots, but only 2 per class exist
        Assert.Contains(json.RootElement.GetProperty("sha256").GetString()!, stdout);

        // A damaged image is reported by name and fails the check.
        var victim = Directory.GetFiles(Path.Combine(world, "synth_fine", "images"), "*.png", SearchOption.AllDirectories).First();
        File.WriteAllBytes(victim, [1, 2, 3]);
        (code, stdout, _) = PeftProcess.Run("data", "check", Path.Combine(world, "synth_fine"));
        Assert.Equal(1, code);
        Assert.Contains(Path.GetFileName(victim), stdout);
    }
}
