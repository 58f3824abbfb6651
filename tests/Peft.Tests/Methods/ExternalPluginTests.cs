using System.Diagnostics;
using System.Text.RegularExpressions;
using Peft.Core;
using Peft.Host.Plugins;
using Peft.Tests.Cli;
using static TorchSharp.torch;

namespace Peft.Tests.Methods;

/// <summary>
/// The README's "Writing a method plugin" sample, built from a folder outside the repository against Peft.Core,
/// loaded through the host's plugin loader, and run.
/// </summary>
public sealed class ExternalPluginTests() : TempDirectory("peft-plugin-")
{
    static string RepositoryRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Peft.Framework.sln"))) dir = dir.Parent;
            return dir?.FullName ?? throw new InvalidOperationException("repository root not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>The code blocks that follow <c>&lt;!-- plugin-sample: NAME --&gt;</c> in the README.</summary>
    static Dictionary<string, string> SampleFiles()
    {
        var readme = File.ReadAllText(Path.Combine(RepositoryRoot, "README.md"));
        return Regex.Matches(readme, @"<!-- plugin-sample: (?<name>\S+) -->\s*```\w*\n(?<code>.*?)```", RegexOptions.Singleline)
            .ToDictionary(m => m.Groups["name"].Value, m => m.Groups["code"].Value);
    }

    [Fact]
    public void TheReadmeSampleBuildsLoadsAndRuns()
    {
        var files = SampleFiles();
        Assert.Equal(["NearestMean.cs", "NearestMean.csproj"], files.Keys.Order());
        var folder = Directory.CreateDirectory(Temp("nearest-mean")).FullName;
        foreach (var (name, source) in files) File.WriteAllText(Path.Combine(folder, name), source);

        var peftBin = Path.GetDirectoryName(PeftProcess.Dll)!;
        var psi = new ProcessStartInfo("dotnet", ["build", "-c", "Release", "-nologo", $"-p:PeftBin={peftBin}", "-o", Path.Combine(folder, "out")])
        {
            WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        using (var build = Process.Start(psi)!)
        {
            var log = build.StandardOutput.ReadToEnd() + build.StandardError.ReadToEnd();
            build.WaitForExit();
            Assert.True(build.ExitCode == 0, log);
        }
        Assert.False(File.Exists(Path.Combine(folder, "out", "Peft.Core.dll")), "the plugin must not ship Peft.Core");

        var catalog = MethodCatalog.Load([Path.Combine(folder, "out")], includeBuiltIn: false);
        var descriptor = catalog.Get("nearest-mean");
        using var scope = NewDisposeScope();
        using var support = new MethodTestSupport();
        var context = support.Context(["a", "b", "c"], shots: 4);
        using var classifier = descriptor.Create(null).Fit(context);
        var logits = classifier.Logits(context.Features.TrainFeatures());
        Assert.Equal([12L, 3L], logits.shape);
        // Nearest class mean separates its own training points better than chance on random features.
        var accuracy = logits.argmax(1).eq(context.Features.TrainLabels).to(ScalarType.Float32).mean().item<float>();
        Assert.True(accuracy > 1 / 3f, $"accuracy {accuracy}");

        // The same plugin through the command line: `peft methods --plugins <dir>`.
        var (code, stdout, stderr) = PeftProcess.Run("methods", "--plugins", Path.Combine(folder, "out"));
        Assert.True(code == 0, stderr);
        Assert.Contains("nearest-mean", stdout);
        Assert.Contains("scale", stdout);
        Assert.Contains("zero-shot", stdout);
    }
}
