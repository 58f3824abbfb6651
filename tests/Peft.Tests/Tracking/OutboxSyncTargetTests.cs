using Peft.Core.Tracking;
using Peft.Tracking.Outbox;
using Peft.Tracking.Rest;

namespace Peft.Tests.Tracking;

/// <summary><c>peft tracking sync --tracking-uri B</c> with a journal waiting for another server A says so instead of "0 left".</summary>
public sealed class OutboxSyncTargetTests() : TempDirectory("peft-outbox-targets-")
{
    [Fact]
    public void JournalsForOtherServersAreReportedNotHidden()
    {
        using var b = new FakeMlflowServer();
        using var a = new FakeMlflowServer();
        a.Stop(); // A is down while the experiment runs: its records wait in the outbox
        RestTracker Rest(string uri) => new(uri, new RestTrackerOptions { MaxRetries = 0, Sleep = _ => { } });
        var outbox = Temp("outbox");
        using (var tracker = new OutboxTracker(Rest(a.Uri), outbox))
        {
            var exp = tracker.GetOrCreateExperiment("grid");
            var run = tracker.CreateRun(exp, "a", 1000, new Dictionary<string, string>());
            tracker.EndRun(run, RunStatus.Finished, 2000);
        }

        var result = OutboxSync.Run(outbox, Rest, onlyUri: b.Uri);
        Assert.Equal((0, 0, 0), (result.EntriesSent, result.JournalsDelivered, result.JournalsLeft));
        Assert.Equal(3, result.WaitingForOtherTargets[a.Uri]); // experiment, run, end

        var all = OutboxSync.Run(outbox, Rest, onlyUri: a.Uri);
        Assert.Equal(1, all.JournalsLeft); // A is still down: the journal stays, with its error
        Assert.Empty(all.WaitingForOtherTargets);
    }
}
