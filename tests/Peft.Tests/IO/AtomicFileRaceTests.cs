using System.Diagnostics;
using System.Text;

namespace Peft.Tests.IO;

/// <summary>
/// Two processes race <c>AtomicFile.TryCreate</c> on the same names (tests/Peft.IO.RaceProbe, built with this project):
/// for every name exactly one of them may be told it created the file, and the file holds that one's content.
/// </summary>
public class AtomicFileRaceTests() : TempDirectory("peft-io-race-")
{
    const int Names = 300;

    /// <summary>tests/Peft.Tests/bin/&lt;Configuration&gt;/net10.0/ → tests/Peft.IO.RaceProbe/bin/&lt;Configuration&gt;/net10.0/.</summary>
    static string ProbeDll
    {
        get
        {
            var bin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
            string framework = bin.Name, configuration = bin.Parent!.Name;
            var tests = bin.Parent!.Parent!.Parent!.Parent!.FullName;
            return Path.Combine(tests, "Peft.IO.RaceProbe", "bin", configuration, framework, "Peft.IO.RaceProbe.dll");
        }
    }

    [Fact]
    public async Task Two_processes_creating_the_same_names_never_both_win()
    {
        Assert.True(File.Exists(ProbeDll), $"{ProbeDll} is missing (built by the test project's reference to it)");
        await File.WriteAllBytesAsync(Temp("barrier"), new byte[16]);
        var probes = new[] { Start(0), Start(1) };
        var outputs = await Task.WhenAll(probes.Select(async p =>
        {
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(10)); // a hang guard, not a time limit
            try { await p.WaitForExitAsync(timeout.Token); }
            catch (OperationCanceledException) { p.Kill(entireProcessTree: true); throw; }
            Assert.True(p.ExitCode == 0, $"probe exited with {p.ExitCode}: {await stderr}");
            return await stdout;
        }));
        foreach (var p in probes) p.Dispose();

        var won = outputs.Select(o => o.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => int.Parse(line["won ".Length..])).ToHashSet()).ToArray();
        for (int i = 0; i < Names; i++)
        {
            Assert.True(won[0].Contains(i) ^ won[1].Contains(i), $"race-{i}: won by {(won[0].Contains(i) ? "both" : "neither")}");
            int winner = won[0].Contains(i) ? 0 : 1;
            Assert.StartsWith($"process {winner}, name {i}\n", File.ReadAllText(Temp($"race-{i}"), Encoding.ASCII));
        }
        var expected = Enumerable.Range(0, Names).Select(i => $"race-{i}").Append("barrier").Order(StringComparer.Ordinal);
        Assert.Equal(expected, Directory.GetFiles(Dir).Select(Path.GetFileName).Order(StringComparer.Ordinal)); // no temporary file left
    }

    Process Start(int me)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { ProbeDll, Dir, Names.ToString(), me.ToString() }) psi.ArgumentList.Add(a);
        return Process.Start(psi)!;
    }
}
