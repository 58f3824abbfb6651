using System.Diagnostics;
using System.Text.Json;
using Peft.Host.Plugins;
using Peft.Tests.Cli;
using Xunit.Abstractions;

namespace Peft.Tests.Integration;

/// <summary>
/// Issue 15, end to end as a new plugin author sees it: the packages are packed into a temporary feed; in a temporary
/// DOTNET_CLI_HOME the template package is installed and a plugin created from it in an empty folder outside the
/// repository (nothing there refers to the checkout: packages come from the feed, others from nuget.org); its tests
/// run (a synthetic task, then the real host on the synthetic world); the peft tool is installed from the feed and
/// runs the generated experiment (zero-shot + the new method, synth_shapes, 1 shot, 1 seed, the bundled tiny CLIP) to a
/// result row. Every command is timed; the times are printed (dotnet test --logger "console;verbosity=detailed").
/// </summary>
[Trait("Category", "Integration")]
public sealed class PluginSdkEndToEndTests(ITestOutputHelper output) : TempDirectory("peft-sdk-")
{
    static readonly TimeSpan Guard = TimeSpan.FromMinutes(30);
    readonly List<(string Step, TimeSpan Time)> _times = [];

    (string Stdout, string Stderr) Step(string name, string workingDirectory, IDictionary<string, string> env, string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in env) psi.Environment[k] = v;
        psi.Environment.Remove("PEFT_PLUGINS"); // (an empty one would override the experiment's "plugins")
        var clock = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(Guard))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{name}: {file} {string.Join(' ', args)} did not finish in {Guard}");
        }
        _times.Add((name, clock.Elapsed));
        output.WriteLine($"{clock.Elapsed.TotalSeconds,7:F1} s  {name}: {Path.GetFileName(file)} {string.Join(' ', args)}");
        Assert.True(p.ExitCode == 0, $"{name}: exit {p.ExitCode}\n{stdout.Result}\n{stderr.Result}");
        return (stdout.Result, stderr.Result);
    }

    [Fact]
    public void FromTheTemplateToAResultRowWithThePeftTool()
    {
        var version = PluginCompatibility.HostCoreVersion;
        string v = $"{version.Major}.{version.Minor}.{version.Build}";
        string feed = Directory.CreateDirectory(Temp("feed")).FullName, home = Directory.CreateDirectory(Temp("home")).FullName;
        string user = Directory.CreateDirectory(Temp("user")).FullName;
        var env = new Dictionary<string, string>
        {
            ["DOTNET_CLI_HOME"] = home,                       // templates and global tools of this "new user"
            ["NUGET_PACKAGES"] = Temp("nuget-packages"),      // this feed's Peft.* never mix with the machine's cache
            ["PEFT_HOME"] = Temp("peft-home"),
            ["PEFT_THREADS"] = Environment.GetEnvironmentVariable("PEFT_THREADS") ?? "1",
            ["DOTNET_NOLOGO"] = "1", ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1", ["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1",
            ["MSBUILDDISABLENODEREUSE"] = "1",               // no build servers left behind in the temporary folders
            ["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0",
        };

        // 1. The maintainer's step (a real feed would already have these): the four packages.
        Step("pack", PeftProcess.Repository, env, "dotnet", "pack", "Peft.Packages.slnf", "-c", "Release", "-nologo", $"-p:PackageOutputPath={feed}");
        Assert.Equal([$"Peft.Core.{v}.nupkg", $"Peft.Templates.{v}.nupkg", $"Peft.Testing.{v}.nupkg", $"peft.{v}.nupkg"],
            Directory.GetFiles(feed).Select(Path.GetFileName).Order(StringComparer.Ordinal));

        // 2. The plugin author, from nothing.
        Step("template install", user, env, "dotnet", "new", "install", Path.Combine(feed, $"Peft.Templates.{v}.nupkg"));
        Step("new plugin", user, env, "dotnet", "new", "peft-method", "-n", "NearestMean");
        var project = Path.Combine(user, "NearestMean");
        foreach (var file in Directory.EnumerateFiles(project, "*", SearchOption.AllDirectories))
            Assert.DoesNotContain(PeftProcess.Repository, File.ReadAllText(file));
        Assert.Contains("\"nearest-mean\": {}", File.ReadAllText(Path.Combine(project, "experiment.json")));
        // Where packages come from: the feed and nuget.org (with the machine's package cache as a read-only fallback,
        // so libtorch is not downloaded again).
        var machineCache = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        File.WriteAllText(Path.Combine(project, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="peft" value="{feed}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
              </packageSources>
              {(Directory.Exists(machineCache) ? $"<fallbackPackageFolders><add key=\"machine\" value=\"{machineCache}\" /></fallbackPackageFolders>" : "")}
            </configuration>
            """);
        var (testOut, testErr) = Step("dotnet test", project, env, "dotnet", "test", "-nologo");
        testOut += testErr;
        Assert.Contains("Passed!", testOut);
        Assert.Contains("Total:     3", testOut);

        Step("tool install", user, env, "dotnet", "tool", "install", "--global", "--add-source", feed, "peft", "--version", v);
        var peft = Path.Combine(home, ".dotnet", "tools", "peft");
        Assert.True(File.Exists(peft), $"{peft} not installed");
        var (info, infoErr) = Step("peft info", project, env, peft, "info");
        info += infoErr;
        Assert.Matches("TorchSharp native library: (loaded|patched)", info);
        Assert.Contains(Path.Combine(home, ".dotnet", "tools", ".store", "peft"), info); // plugins: the tool's own folder

        Step("build plugin", project, env, "dotnet", "build", "-c", "Release", "-nologo");
        var bin = Path.Combine(project, "src", "NearestMean", "bin", "Release", "net10.0");
        Assert.True(File.Exists(Path.Combine(bin, "NearestMean.dll")));
        foreach (var hostProvided in new[] { "Peft.Core.dll", "TorchSharp.dll", "Microsoft.Extensions.DependencyInjection.Abstractions.dll" })
            Assert.False(File.Exists(Path.Combine(bin, hostProvided)), $"the plugin ships {hostProvided}");
        Assert.False(Directory.Exists(Path.Combine(bin, "runtimes")), "the plugin ships native libraries");

        var (methods, methodsErr) = Step("peft methods", project, env, peft, "methods", "--plugins", bin);
        methods += methodsErr;
        Assert.Contains("nearest-mean", methods);
        Assert.Contains("zero-shot", methods);

        var (runOut, runErr) = Step("peft run", project, env, peft, "run", "experiment.json");
        runOut += runErr;
        Assert.Contains("2 cells run, 0 already done, 0 failed", runErr);
        Assert.Matches(@"nearest-mean\s+\d+\.\d\d", runOut);
        Assert.Matches(@"zero-shot\s+53\.80", runOut); // the quickstart's zero-shot on synth_shapes with the tiny CLIP
        var result = Path.Combine(project, "runs", "nearest-mean", "results", "synth_shapes", "1", "1", "nearest-mean.json");
        Assert.True(File.Exists(result), $"no result at {result}: {string.Join(", ", Directory.EnumerateFiles(Path.Combine(project, "runs"), "*.json", SearchOption.AllDirectories))}");
        using (var json = JsonDocument.Parse(File.ReadAllText(result))) Assert.Equal(JsonValueKind.Object, json.RootElement.ValueKind);

        var total = _times.Aggregate(TimeSpan.Zero, (s, t) => s + t.Time);
        var author = total - _times.Single(t => t.Step == "pack").Time;
        output.WriteLine($"total {total.TotalSeconds:F0} s; the author's part (template install to result row, packages on a feed) {author.TotalSeconds:F0} s");
    }
}
