using System.CommandLine;
using Peft.Tracking;
using Peft.Tracking.Outbox;
using Peft.Tracking.Rest;

namespace Peft.Cli.Commands;

/// <summary><c>peft tracking sync</c>: sends what the tracking outbox still holds to the MLflow server.</summary>
public static class TrackingSyncCommand
{
    public static Command Create()
    {
        var outbox = new Option<string?>("--outbox")
        {
            Description = "Outbox folder (default: $PEFT_HOME/tracking-outbox, else $XDG_STATE_HOME/peft/tracking-outbox, else ~/.local/state/peft/tracking-outbox).",
        };
        var uri = new Option<string?>("--tracking-uri")
        {
            Description = "Send only the records meant for this MLflow server (default: every journal to the server recorded in it).",
        };
        var sync = new Command("sync",
            "Send the records an unreachable MLflow server could not take (kept in the outbox) and remove what was delivered. " +
            "Environment: MLFLOW_TRACKING_USERNAME/PASSWORD, MLFLOW_TRACKING_TOKEN, MLFLOW_TRACKING_INSECURE_TLS, MLFLOW_HTTP_REQUEST_*.");
        sync.Options.Add(outbox);
        sync.Options.Add(uri);
        sync.SetAction(parseResult =>
        {
            var folder = parseResult.GetValue(outbox) ?? TrackingTargets.DefaultOutboxDirectory();
            var only = parseResult.GetValue(uri);
            if (only is not null && !TrackingTargets.IsHttp(only))
                throw new ArgumentException($"--tracking-uri '{only}' is not an http(s):// MLflow server; only servers have an outbox");
            var options = RestTrackerOptions.FromEnvironment();
            var result = OutboxSync.Run(folder, target => new RestTracker(target, options), only);
            Console.Error.WriteLine($"outbox: {folder}");
            Console.Out.WriteLine($"delivered {result.EntriesSent} records; {result.JournalsDelivered} journals complete and removed; " +
                                  $"{result.JournalsInUse} in use by running processes; {result.JournalsLeft} left");
            foreach (var (target, records) in result.WaitingForOtherTargets)
                Console.Out.WriteLine($"{records} records wait for {target} (not sent: --tracking-uri {only}; run `peft tracking sync --tracking-uri {target}` or without --tracking-uri)");
            if (result.Errors.Count == 0) return 0;
            foreach (var error in result.Errors.Skip(1)) Console.Error.WriteLine($"note: {error}");
            Console.Error.WriteLine($"error: {result.Errors[0]}");
            return 1;
        });
        return new Command("tracking", "MLflow tracking: deliver records kept while the server was unreachable.") { sync };
    }
}
