namespace Peft.Tests.Cli;

/// <summary>
/// Issue 11.1: a native fault inside libtorch (SIGFPE in oneDNN on CPUs without cache sizes) used to end a run with
/// exit 136 and not a word. The ./peft wrapper names the signal and says what to do; PEFT_RAISE_SIGNAL makes the
/// program die from a real signal, as such a fault does.
/// </summary>
public sealed class PeftWrapperTests
{
    [Theory]
    [InlineData(8, "SIGFPE", 136)]
    [InlineData(11, "SIGSEGV", 139)]
    public void The_wrapper_names_a_native_fault_and_keeps_its_exit_status(int signal, string name, int exit)
    {
        var wrapper = Path.Combine(PeftProcess.Repository, "peft");
        var (code, _, stderr) = PeftProcess.Exec("/bin/bash", [wrapper, "info"], TimeSpan.FromMinutes(5),
            new Dictionary<string, string> { ["PEFT_RAISE_SIGNAL"] = signal.ToString() });
        Assert.Equal(exit, code);
        Assert.Contains($"peft: the program died from signal {name} (exit {exit}) inside native code", stderr);
        Assert.Contains("finished results are kept and a rerun resumes", stderr);
    }

    [Fact]
    public void Without_a_fault_the_wrapper_passes_the_exit_code_and_says_nothing_more()
    {
        var wrapper = Path.Combine(PeftProcess.Repository, "peft");
        var (code, _, stderr) = PeftProcess.Exec("/bin/bash", [wrapper, "plan", "/nonexistent/exp.json"], TimeSpan.FromMinutes(5));
        Assert.NotEqual(0, code);
        Assert.DoesNotContain("died from signal", stderr);
    }

    [Fact]
    public void Hints_name_the_command_as_the_wrapper_was_called()
    {
        var wrapper = Path.Combine(PeftProcess.Repository, "peft");
        var experiment = Path.Combine(Path.GetTempPath(), $"peft-wrapper-{Guid.NewGuid():N}.json");
        File.WriteAllText(experiment, """{ "name": "x", "datasets": [ { "type": "synth_shapes" } ], "methods": { "zero-shot": {} } }""");
        try
        {
            var (code, _, stderr) = PeftProcess.Exec("/bin/bash", [wrapper, "plan", experiment], TimeSpan.FromMinutes(5));
            Assert.NotEqual(0, code);
            Assert.Contains($"(e.g. the output of {wrapper} models pull ViT-B/16)", stderr);
        }
        finally { File.Delete(experiment); }
    }
}
