using Microsoft.Extensions.Logging;
using Peft.Core.Diagnostics;
using Peft.Terminal;
using Peft.Tests.Cli;
using Peft.Tests.Tracking;
using Peft.Tracking.Rest;

namespace Peft.Tests.Diagnostics;

/// <summary>Diagnostics through Microsoft.Extensions.Logging: one format, warnings by default, debug with --verbose.</summary>
public sealed class PeftLogTests
{
    [Fact]
    public void Lines_read_the_same_whoever_logs_them()
    {
        Assert.Equal("warning: x", PeftLog.Format(LogLevel.Warning, "Peft.Features.FeatureCache", "x"));
        Assert.Equal("error: x", PeftLog.Format(LogLevel.Error, "Peft.Cli", "x"));
        Assert.Equal("note: x", PeftLog.Format(LogLevel.Information, "Peft.Cli", "note: x"));
        Assert.Equal("debug: [Tracking.Rest.MlflowHttp] x", PeftLog.Format(LogLevel.Debug, "Peft.Tracking.Rest.MlflowHttp", "x"));
    }

    [Fact]
    public void Without_configuration_warnings_and_notes_go_to_stderr_and_debug_lines_nowhere()
    {
        var saved = Console.Error;
        var stderr = new StringWriter { NewLine = "\n" };
        Console.SetError(stderr);
        try
        {
            PeftLog.Line("Peft.Tests", "warning: a damaged entry");
            PeftLog.Line("Peft.Tests", "note: 3 entries without checksum");
            PeftLog.For("Peft.Tests").LogDebug("not shown");
        }
        finally
        {
            Console.SetError(saved);
        }
        Assert.Equal("warning: a damaged entry\nnote: 3 entries without checksum\n", stderr.ToString());
    }

    [Fact]
    public void A_debug_factory_shows_the_mlflow_clients_retries()
    {
        var output = new StringWriter { NewLine = "\n" };
        var saved = PeftLog.Factory;
        using var factory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(new TerminalLoggerProvider(output, interactive: false)));
        PeftLog.Factory = factory;
        try
        {
            using var server = new FakeMlflowServer();
            server.FailNext(2, 503);
            using var tracker = new RestTracker(server.Uri, new RestTrackerOptions { MaxRetries = 3, BackoffJitter = 0, Sleep = _ => { } });
            tracker.GetOrCreateExperiment("e");
        }
        finally
        {
            PeftLog.Factory = saved;
        }
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Count(l => l.StartsWith("debug: [Tracking.Rest.MlflowHttp] ", StringComparison.Ordinal) && l.Contains("503")));
        Assert.Contains(lines, l => l.Contains("retry 1 of 3") && l.EndsWith(" in 0 s", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("retry 2 of 3") && l.EndsWith(" in 4 s", StringComparison.Ordinal));
    }

    [Fact]
    public void Verbose_adds_debug_lines_to_a_command_and_plain_runs_have_none()
    {
        var (code, _, stderr) = PeftProcess.Run("methods", "--verbose");
        Assert.True(code == 0, stderr);
        Assert.Contains("debug: [Host.Plugins.MethodCatalog] ", stderr);
        Assert.Contains("debug: [Cli] libLibTorchSharp.so: ", stderr);

        var (plainCode, _, plainErr) = PeftProcess.Run("methods");
        Assert.True(plainCode == 0, plainErr);
        Assert.DoesNotContain("debug:", plainErr);
    }
}
