using System.Diagnostics;

namespace Peft.Tests.Cli;

/// <summary>Runs the built <c>peft</c> command line (same configuration as the tests) as a child process.</summary>
static class PeftProcess
{
    public static string Dll
    {
        get
        {
            // tests/Peft.Tests/bin/<Configuration>/net10.0/ → src/Peft.Cli/bin/<Configuration>/net10.0/peft.dll
            var bin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
            string framework = bin.Name, configuration = bin.Parent!.Name;
            var repo = bin.Parent!.Parent!.Parent!.Parent!.Parent!.FullName;
            return Path.Combine(repo, "src", "Peft.Cli", "bin", configuration, framework, "peft.dll");
        }
    }

    /// <summary>The repository root (where experiments/ and data/ are).</summary>
    public static string Repository => Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Dll)!, "..", "..", "..", "..", ".."));

    /// <summary>
    /// How long a child may take before it is taken for hung and killed. Not a performance limit: on a loaded machine a
    /// run may be many times slower than idle, and a test must not fail for that (time is measured in benchmarks).
    /// </summary>
    public static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(60);

    public static (int exitCode, string stdout, string stderr) Run(params string[] args) => Run(HangGuard, args);

    public static (int exitCode, string stdout, string stderr) Run(TimeSpan timeout, params string[] args) =>
        Exec("dotnet", [Dll, .. args], timeout);

    /// <summary>Runs <paramref name="file"/> with <paramref name="args"/> (and extra environment); exit code, stdout and stderr.</summary>
    public static (int exitCode, string stdout, string stderr) Exec(string file, IEnumerable<string> args, TimeSpan timeout,
        IDictionary<string, string>? env = null)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in env ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(" ", args)} did not finish in {timeout}");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary><c>bash -c <paramref name="command"/></c>, asserting exit 0 (the output is in the failure message); returns stdout.</summary>
    public static string Bash(string command, TimeSpan timeout, IDictionary<string, string>? env = null)
    {
        var (code, stdout, stderr) = Exec("/bin/bash", ["-c", command], timeout, env);
        Assert.True(code == 0, $"{command}: exit {code}\n{stdout}\n{stderr}");
        return stdout;
    }
}
