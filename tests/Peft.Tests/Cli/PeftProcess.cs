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

    public static (int exitCode, string stdout, string stderr) Run(params string[] args) => Run(TimeSpan.FromMinutes(3), args);

    public static (int exitCode, string stdout, string stderr) Run(TimeSpan timeout, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"peft {string.Join(" ", args)} did not finish");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}
