using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Peft.Tests.Cli;

namespace Peft.Tests.Integration;

/// <summary>
/// The real MLflow (3.6, its own Python code) from <c>../shared/mlflow</c> next to the repository, or from
/// <c>PEFT_SHARED_DIR</c>/mlflow: a tracking server on a free port, and MLflow's own client to read back what peft
/// logged. Integration tests (trait Category=Integration) fail, never skip, when it is missing: CI installs its Debian
/// packages (<c>apt-packages.txt</c>); elsewhere run <c>dotnet test --filter Category!=Integration</c>.
/// </summary>
static class RealMlflow
{
    public static string Home
    {
        get
        {
            var shared = Environment.GetEnvironmentVariable("PEFT_SHARED_DIR") is { Length: > 0 } s ? s
                : Path.Combine(PeftProcess.Repository, "..", "shared");
            var home = Path.GetFullPath(Path.Combine(shared, "mlflow"));
            if (!File.Exists(Path.Combine(home, "start-server.sh")))
                throw new InvalidOperationException($"the real MLflow is not at {home} (set PEFT_SHARED_DIR to the folder holding mlflow/, " +
                    "or exclude the integration tests: dotnet test --filter Category!=Integration)");
            return home;
        }
    }

    static Dictionary<string, string> PythonEnv() => new()
    {
        ["PYTHONPATH"] = Path.Combine(Home, "python"), ["MLFLOW_DISABLE_TELEMETRY"] = "true", ["DO_NOT_TRACK"] = "true",
    };

    /// <summary>The experiment as MLflow's <c>MlflowClient</c> reads it (server REST API or FileStore), see mlflow_dump.py.</summary>
    public static JsonElement Dump(string trackingUri, string experiment)
    {
        var script = Path.Combine(PeftProcess.Repository, "tests", "Peft.Tests", "Integration", "mlflow_dump.py");
        var (code, stdout, stderr) = PeftProcess.Exec("/usr/bin/python3", [script, trackingUri, experiment], PeftProcess.HangGuard, PythonEnv());
        Assert.True(code == 0, $"mlflow_dump.py failed ({code}): {stderr[Math.Max(0, stderr.Length - 2500)..]}");
        return JsonDocument.Parse(stdout, new JsonDocumentOptions { MaxDepth = 64 }).RootElement.Clone();
    }

    public static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}

/// <summary>A real <c>mlflow server</c> (sqlite backend, proxied artifacts) in a folder, stopped on dispose.</summary>
sealed class RealMlflowServer : IDisposable
{
    public string Directory { get; }
    public int Port { get; }
    public string Uri => $"http://127.0.0.1:{Port}";

    public RealMlflowServer(string directory, int? port = null)
    {
        Directory = directory;
        Port = port ?? RealMlflow.FreePort();
        Start();
    }

    public void Start()
    {
        var (code, stdout, stderr) = PeftProcess.Exec("/bin/bash", [Path.Combine(RealMlflow.Home, "start-server.sh"), Directory, Port.ToString()],
            PeftProcess.HangGuard);
        Assert.True(code == 0, $"mlflow server did not start: {stdout}\n{stderr}");
    }

    public void Stop()
    {
        var pidFile = Path.Combine(Directory, "server.pid");
        if (!File.Exists(pidFile)) return;
        var pid = File.ReadAllText(pidFile).Trim();
        PeftProcess.Exec("/bin/bash", ["-c", $"kill -- -{pid} 2>/dev/null; for i in $(seq 1 50); do kill -0 {pid} 2>/dev/null || exit 0; sleep 0.2; done; kill -9 -- -{pid} 2>/dev/null; true"],
            TimeSpan.FromMinutes(1));
        File.Delete(pidFile);
    }

    public void Dispose() => Stop();
}
