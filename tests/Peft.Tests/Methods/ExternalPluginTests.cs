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
public sealed class ExternalPluginTests() : Peft.Tests.Experiments.TinyWorldDirectory("peft-plugin-")
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
        Assert.Equal(["NearestMean.cs", "NearestMean.csproj", "TextInitHead.cs"], files.Keys.Order());
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

        // The trainable sample: starts from zero-shot CLIP's classifier, logs one loss per epoch, and the loss falls.
        var head = catalog.Get("text-init-head");
        var sink = new EpochSink();
        using (var trained = head.Create(null).Fit(new AdaptationContext
               {
                   Task = context.Task, Features = context.Features, TextEncoder = context.TextEncoder, Tokenizer = context.Tokenizer,
                   Generator = context.Generator, Metrics = sink,
               }))
        {
            Assert.Equal(3L * support.Clip.Model.EmbedDim, trained.TrainableParameters);
            Assert.Equal(Enumerable.Range(1, 20), sink.Steps);
            Assert.True(sink.Losses[^1] < sink.Losses[0], $"loss {sink.Losses[0]} → {sink.Losses[^1]}");
        }

        // The same plugin through the command line: `peft methods --plugins <dir>`.
        var (code, stdout, stderr) = PeftProcess.Run("methods", "--plugins", Path.Combine(folder, "out"));
        Assert.True(code == 0, stderr);
        Assert.Contains("nearest-mean", stdout);
        Assert.Contains("scale", stdout);
        Assert.Contains("zero-shot", stdout);
        (code, stdout, stderr) = PeftProcess.Exec("dotnet", [PeftProcess.Dll, "methods"], PeftProcess.HangGuard,
            new Dictionary<string, string> { ["PEFT_PLUGINS"] = Path.Combine(folder, "out") });
        Assert.True(code == 0, stderr);
        Assert.Contains("nearest-mean", stdout);

        // An experiment that names its plugin folder (relative to the file) runs without --plugins, and the end-of-run
        // hint is a command that works.
        File.WriteAllText(Temp("exp.json"), """
            {
              "name": "with-plugin", "backbone": { "model": "model.safetensors" }, "plugins": ["nearest-mean/out"],
              "datasets": [ { "name": "shapes", "type": "coop_layout", "root": "world/synth_shapes" } ],
              "shots": [1], "seeds": [1], "trainViews": 1, "cache": "cache", "output": "out", "tracking": { "uri": "mlruns" },
              "methods": { "zero-shot": {}, "nearest-mean": {} }
            }
            """);
        (code, _, stderr) = PeftProcess.Run("run", Temp("exp.json"), "--no-report", "--set", "output=out 2");
        Assert.True(code == 0, stderr);
        // Run as `dotnet peft.dll`, as the .NET tool runs: the hint names `peft` (the checkout's wrapper sets PEFT_COMMAND=./peft).
        Assert.Contains($"report:   peft report {Temp("exp.json")} --set 'output=out 2'", stderr);
        // The report needs the results, not the plugin: without the "plugins" entry it still reports nearest-mean.
        File.WriteAllText(Temp("exp.json"), File.ReadAllText(Temp("exp.json")).Replace("\"plugins\": [\"nearest-mean/out\"],", ""));
        (code, stdout, stderr) = PeftProcess.Run("report", Temp("exp.json"), "--set", "output=out 2");
        Assert.True(code == 0, stderr);
        Assert.Contains("nearest-mean", stdout);
        // Running it does need the plugin, and says how to give it.
        (code, _, stderr) = PeftProcess.Run("plan", Temp("exp.json"));
        Assert.NotEqual(0, code);
        Assert.Contains("unknown method 'nearest-mean'", stderr);
        Assert.Contains("PEFT_PLUGINS", stderr);
    }

    sealed class EpochSink : IMetricSink
    {
        public List<int> Steps { get; } = [];
        public List<double> Losses { get; } = [];
        public void Log(string name, double value, int step = 0)
        {
            Assert.Equal("loss", name);
            Steps.Add(step);
            Losses.Add(value);
        }
    }
}
