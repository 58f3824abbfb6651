using Peft.Clip.Loading;
using Peft.Tests.Host;
using Peft.Tests.Imaging;
using Peft.Tensors;

namespace Peft.Tests.Cli;

public sealed class CommandLineTests() : TempDirectory("peft-cli-")
{
    [Fact]
    public void HelpListsTheCommands()
    {
        var (code, stdout, _) = PeftProcess.Run("--help");
        Assert.Equal(0, code);
        foreach (var command in new[] { "encode", "models", "info" }) Assert.Contains(command, stdout);
    }

    [Fact]
    public void MethodsDescribeEveryOptionAndWriteNotSetOneWay()
    {
        var (code, stdout, stderr) = PeftProcess.Run("methods");
        Assert.True(code == 0, stderr);
        var coop = stdout[(stdout.IndexOf("\ncoop  —", StringComparison.Ordinal) + 1)..];   // not cocoop
        coop = coop[..coop.IndexOf("\n\n", StringComparison.Ordinal)];
        Assert.Matches(@"epochs\s+\(none\)\n\s+Training epochs; none = by shots", coop);
        Assert.Matches(@"ctxInit\s+\(none\)\n\s+Initial context phrase", coop);
        // Every option of every built-in method has its description (the plugins ship their XML docs).
        var lines = stdout.Split('\n');
        for (int i = 0; i < lines.Length; i++)
            if (System.Text.RegularExpressions.Regex.IsMatch(lines[i], @"^    \w+\s{2,}\S"))
                Assert.True(i + 1 < lines.Length && lines[i + 1].StartsWith("        ", StringComparison.Ordinal), $"no description under: {lines[i]}");
        Assert.DoesNotContain(" 0\n        Training epochs", stdout);
    }

    [Fact]
    public void InfoNamesVersionsIsaAndFolders()
    {
        var (code, stdout, stderr) = PeftProcess.Run("info");
        Assert.True(code == 0, stderr);
        foreach (var line in new[] { "TorchSharp: 0.107.0", "libtorch: 2.10.0", "CPU capability:", "feature cache:", "models:", "threads:" })
            Assert.Contains(line, stdout);
    }

    [Fact]
    public void EncodeWritesTheFeatureFile()
    {
        var model = RandomClip.Save(Temp("model.safetensors"), RandomClip.SmallViT, seed: 5);
        var images = Directory.CreateDirectory(Temp("images")).FullName;
        File.Copy(ImageFixtures.PathOf("photo_rocket.jpg"), Path.Combine(images, "rocket.jpg"));
        File.Copy(ImageFixtures.PathOf("gray.png"), Path.Combine(images, "gray.png"));
        File.WriteAllLines(Temp("texts.txt"), ["a rocket", "a gray square"]);
        var output = Temp("features.safetensors");

        var (code, stdout, stderr) = PeftProcess.Run("encode", "--model", model, "--images", images,
            "--texts", Temp("texts.txt"), "--out", output, "--batch-size", "1", "--threads", "1");

        Assert.True(code == 0, stderr);
        Assert.Contains("image_features [2, 32]", stdout);
        Assert.Contains("text_features [2, 32]", stdout);
        Assert.Contains("encode images", stderr); // progress goes to stderr (plain lines when redirected)
        using var features = SafeTensorsFile.Read(output);
        Assert.Equal([2L, 32L], features["image_features"].shape);
    }

    [Fact]
    public void BadInputIsOneLineAndExitCodeOne()
    {
        var missing = Temp("missing.pt");
        File.WriteAllText(Temp("t.txt"), "hello");
        var (code, stdout, stderr) = PeftProcess.Run("encode", "--model", missing, "--texts", Temp("t.txt"),
            "--out", Temp("o.safetensors"));
        Assert.Equal(1, code);
        Assert.Equal($"error: {missing}: no such file or folder", stderr.Trim());
        Assert.Equal("", stdout);
        Assert.False(File.Exists(Temp("o.safetensors")));
    }

    [Fact]
    public void InvalidOptionValueIsRejected()
    {
        var (code, _, stderr) = PeftProcess.Run("encode", "--model", "m", "--out", "o", "--dtype", "fp8");
        Assert.NotEqual(0, code);
        Assert.Contains("fp8", stderr);
    }
}
