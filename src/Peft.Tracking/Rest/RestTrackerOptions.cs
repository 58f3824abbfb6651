using System.Globalization;

namespace Peft.Tracking.Rest;

/// <summary>
/// HTTP behaviour of <see cref="RestTracker"/>, with the defaults and environment variables of MLflow's Python client
/// (mlflow/environment_variables.py, request_utils.py): retries with exponential backoff and jitter on connection
/// failures, timeouts and HTTP 408/429/500/502/503/504, honouring Retry-After.
/// </summary>
public sealed record RestTrackerOptions
{
    /// <summary>Retries after the first attempt (MLFLOW_HTTP_REQUEST_MAX_RETRIES, default 7).</summary>
    public int MaxRetries { get; init; } = 7;

    /// <summary>Sleep before retry n ≥ 2 is factor·2^(n-1) seconds, capped at 120 s (MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR, default 2).</summary>
    public double BackoffFactor { get; init; } = 2;

    /// <summary>Up to this many random seconds are added to each backoff (MLFLOW_HTTP_REQUEST_BACKOFF_JITTER, default 1.0).</summary>
    public double BackoffJitter { get; init; } = 1.0;

    /// <summary>Per-attempt timeout (MLFLOW_HTTP_REQUEST_TIMEOUT, default 120 s).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>Skip TLS certificate checks (MLFLOW_TRACKING_INSECURE_TLS=true).</summary>
    public bool InsecureTls { get; init; }

    public MlflowCredentials Credentials { get; init; } = MlflowCredentials.None;

    /// <summary>How the client waits between attempts (not called for a zero wait); tests record the waits instead of sleeping.</summary>
    public Action<TimeSpan> Sleep { get; init; } = Thread.Sleep;

    public const double MaxBackoffSeconds = 120;

    public static RestTrackerOptions FromEnvironment() => new()
    {
        MaxRetries = ReadInt("MLFLOW_HTTP_REQUEST_MAX_RETRIES", 7),
        BackoffFactor = ReadDouble("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", 2),
        BackoffJitter = ReadDouble("MLFLOW_HTTP_REQUEST_BACKOFF_JITTER", 1.0),
        Timeout = TimeSpan.FromSeconds(ReadDouble("MLFLOW_HTTP_REQUEST_TIMEOUT", 120)),
        InsecureTls = ReadBool("MLFLOW_TRACKING_INSECURE_TLS"),
        Credentials = MlflowCredentials.FromEnvironment(),
    };

    private static int ReadInt(string name, int fallback)
    {
        var text = Environment.GetEnvironmentVariable(name);
        if (string.IsNullOrWhiteSpace(text)) return fallback;
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= 0 ? v
            : throw new ArgumentException($"{name}='{text}' is not a non-negative integer");
    }

    private static double ReadDouble(string name, double fallback)
    {
        var text = Environment.GetEnvironmentVariable(name);
        if (string.IsNullOrWhiteSpace(text)) return fallback;
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v >= 0 && double.IsFinite(v) ? v
            : throw new ArgumentException($"{name}='{text}' is not a non-negative number");
    }

    private static bool ReadBool(string name)
    {
        var text = Environment.GetEnvironmentVariable(name);
        if (string.IsNullOrWhiteSpace(text)) return false;
        return text.Trim().ToLowerInvariant() switch
        {
            "true" or "1" => true,
            "false" or "0" => false,
            _ => throw new ArgumentException($"{name}='{text}' is not true/false"),
        };
    }
}
