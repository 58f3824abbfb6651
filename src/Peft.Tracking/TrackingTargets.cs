using System.Text.RegularExpressions;
using Peft.Core.Tracking;
using Peft.Tracking.Mlruns;
using Peft.Tracking.Outbox;
using Peft.Tracking.Rest;

namespace Peft.Tracking;

/// <summary>Makes the tracker for a tracking URI, as MLflow resolves MLFLOW_TRACKING_URI.</summary>
public static partial class TrackingTargets
{
    public const string DefaultUri = "./mlruns";
    public const string AcceptedForms = "http://host:port or https://… (an MLflow server), file:///path/to/mlruns, or a plain folder path";

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9+.-]+:")]
    private static partial Regex Scheme();

    /// <summary>The URI to use: the given one, else MLFLOW_TRACKING_URI, else <c>./mlruns</c>.</summary>
    public static string ResolveUri(string? uri)
    {
        if (!string.IsNullOrWhiteSpace(uri)) return uri.Trim();
        var fromEnvironment = Environment.GetEnvironmentVariable("MLFLOW_TRACKING_URI");
        return string.IsNullOrWhiteSpace(fromEnvironment) ? DefaultUri : fromEnvironment.Trim();
    }

    /// <summary>
    /// Null when <paramref name="uri"/> is a form we can write to (http(s), <c>file:</c>, a plain path), else the one-line
    /// reason. Any other scheme (<c>sqlite:</c>, <c>postgresql:</c>, <c>s3:</c> …) and MLflow's bare <c>databricks</c> /
    /// <c>databricks-uc</c> names are refused: read as paths they would silently become local folders named after them.
    /// </summary>
    public static string? Refusal(string uri)
    {
        var trimmed = uri.Trim();
        if (IsHttp(trimmed) || trimmed.StartsWith("file:", StringComparison.OrdinalIgnoreCase)) return null;
        if (Scheme().IsMatch(trimmed) || trimmed is "databricks" or "databricks-uc")
            return $"tracking URI '{trimmed}' is not supported; use {AcceptedForms}";
        return null;
    }

    public static bool IsHttp(string uri) =>
        uri.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || uri.StartsWith("https://", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// <c>http(s)://</c> → a <see cref="RestTracker"/> behind an <see cref="OutboxTracker"/>; <c>file:</c> or a path →
    /// a <see cref="FileStoreTracker"/>; anything else is refused with the accepted forms.
    /// </summary>
    /// <param name="outboxDirectory">Journals of undelivered records (default: <see cref="DefaultOutboxDirectory"/>).</param>
    public static IExperimentTracker Create(string? uri, string? outboxDirectory = null)
    {
        var resolved = ResolveUri(uri);
        if (IsHttp(resolved))
        {
            // Few retries while the experiment runs: the outbox keeps what fails, and the next attempt comes soon.
            var options = RestTrackerOptions.FromEnvironment();
            var live = options with { MaxRetries = Math.Min(options.MaxRetries, LiveMaxRetries) };
            return new OutboxTracker(new RestTracker(resolved, live), outboxDirectory ?? DefaultOutboxDirectory());
        }
        if (Refusal(resolved) is { } refusal) throw new ArgumentException(refusal);
        return new FileStoreTracker(resolved);
    }

    /// <summary>Retries of a live request before the outbox keeps it for later (MLflow's 7 would stall a run for minutes).</summary>
    public const int LiveMaxRetries = 2;

    /// <summary>$PEFT_HOME/tracking-outbox, else $XDG_STATE_HOME/peft/tracking-outbox, else ~/.local/state/peft/tracking-outbox.</summary>
    public static string DefaultOutboxDirectory()
    {
        var peftHome = Environment.GetEnvironmentVariable("PEFT_HOME");
        if (!string.IsNullOrEmpty(peftHome)) return Path.Combine(peftHome, "tracking-outbox");
        var state = Environment.GetEnvironmentVariable("XDG_STATE_HOME");
        if (string.IsNullOrEmpty(state))
            state = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "state");
        return Path.Combine(state, "peft", "tracking-outbox");
    }
}
