using System.Text.Json.Nodes;
using Peft.Core.Tracking;
using Peft.IO;
using Peft.Tracking.Rest;
using Peft.Core.Diagnostics;

namespace Peft.Tracking.Outbox;

/// <summary>
/// Keeps an experiment going when the tracking server is unreachable, and loses nothing. Every operation is first
/// appended to this process's journal in the outbox folder (flushed to disk), then delivered in order. While the
/// server is down, operations only go to the journal (ids of new experiments and runs are local ones, mapped to
/// the server's once delivered) and delivery is retried every <see cref="RetryInterval"/>. What is still
/// undelivered when the tracker is disposed stays in the outbox for <c>peft tracking sync</c>. A refusal by the
/// server (bad value, permission) stops delivery of the journal with the server's error; the journal is kept.
/// </summary>
public sealed class OutboxTracker : IExperimentTracker
{
    private readonly IExperimentTracker _inner;
    private readonly OutboxJournal _journal;
    private readonly HashSet<int> _firstAttempts = [];
    private readonly Lock _gate = new();
    private DateTime _retryAt = DateTime.MinValue;
    private TrackingException? _refusal;
    private bool _warned, _disposed;

    /// <param name="inner">The tracker that delivers (a <see cref="RestTracker"/>); disposed with this one.</param>
    /// <param name="outboxDirectory">Where journals are kept (shared by processes; each writes its own journal).</param>
    public OutboxTracker(IExperimentTracker inner, string outboxDirectory)
    {
        _inner = inner;
        _journal = OutboxJournal.Create(outboxDirectory, inner.Uri);
    }

    public string Uri => _inner.Uri;

    /// <summary>How long to work offline after a delivery failed before trying the server again.</summary>
    public TimeSpan RetryInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Operations recorded but not yet confirmed by the server.</summary>
    public int Pending { get { lock (_gate) return _journal.Pending; } }

    public string JournalPath => _journal.JournalPath;

    public string GetOrCreateExperiment(string name)
    {
        TrackingKeys.ValidateExperimentName(name);
        var local = "local-exp-" + Guid.NewGuid().ToString("N");
        return Record(new JsonObject { ["op"] = "experiment", ["name"] = name, ["local"] = local }, local);
    }

    public string CreateRun(string experimentId, string runName, long startTimeMs, IReadOnlyDictionary<string, string> tags)
    {
        ArgumentNullException.ThrowIfNull(tags);
        foreach (var key in tags.Keys) TrackingKeys.Validate(key, "tag");
        // The local id doubles as the client-side run id the server's run is tagged with, so a redelivery finds it.
        var local = "local-" + Guid.NewGuid().ToString("N");
        var allTags = new Dictionary<string, string>(tags, StringComparer.Ordinal) { [RestTracker.ClientRunIdTag] = local };
        var entry = new JsonObject
        {
            ["op"] = "run", ["local"] = local, ["experiment"] = experimentId, ["name"] = runName, ["start"] = startTimeMs,
            ["tags"] = JournalDelivery.Map(allTags),
        };
        return Record(entry, local, isRun: true);
    }

    public void LogBatch(string runId, IReadOnlyList<MetricPoint> metrics, IReadOnlyDictionary<string, string> parameters,
        IReadOnlyDictionary<string, string> tags)
    {
        // Bad keys are refused now: in the journal they would block delivery of everything after them.
        foreach (var m in metrics) TrackingKeys.Validate(m.Key, "metric");
        foreach (var key in parameters.Keys) TrackingKeys.Validate(key, "param");
        foreach (var key in tags.Keys) TrackingKeys.Validate(key, "tag");
        Record(new JsonObject
        {
            ["op"] = "batch", ["run"] = runId, ["metrics"] = JournalDelivery.Metrics(metrics),
            ["params"] = JournalDelivery.Map(parameters), ["tags"] = JournalDelivery.Map(tags),
        }, null);
    }

    public void LogArtifact(string runId, string relativePath, ReadOnlyMemory<byte> content)
    {
        TrackingKeys.ValidateArtifactPath(relativePath);
        lock (_gate)
        {
            var file = Guid.NewGuid().ToString("N");
            Directory.CreateDirectory(_journal.ArtifactsDirectory);
            AtomicFile.Replace(Path.Combine(_journal.ArtifactsDirectory, file), content.Span);
            Record(new JsonObject { ["op"] = "artifact", ["run"] = runId, ["path"] = relativePath, ["file"] = file }, null);
        }
    }

    public void EndRun(string runId, RunStatus status, long endTimeMs) =>
        Record(new JsonObject { ["op"] = "end", ["run"] = runId, ["status"] = (int)status, ["end"] = endTimeMs }, null);

    /// <summary>The server's answer; while the server is unreachable, no runs (with a warning), so the experiment goes on.</summary>
    public IReadOnlyList<TrackedRun> FindRuns(string experimentId, string tagKey, string tagValue)
    {
        lock (_gate)
        {
            TryDeliver();
            var id = JournalDelivery.Resolve(_journal, experimentId);
            if (_journal.Pending == 0 || !id.StartsWith("local-", StringComparison.Ordinal))
            {
                try
                {
                    return _inner.FindRuns(id, tagKey, tagValue);
                }
                catch (TrackingException e) when (e.Transient)
                {
                    GoOffline(e);
                }
            }
            PeftLog.Line(typeof(OutboxTracker).FullName!, $"warning: cannot ask {Uri} which runs exist (server unreachable); assuming none.");
            return [];
        }
    }

    private string Record(JsonObject entry, string? localId, bool isRun = false)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_refusal is not null) throw _refusal;
            if (isRun) _firstAttempts.Add(_journal.Count);
            _journal.Append(entry);
            TryDeliver();
            return localId is null ? "" : JournalDelivery.Resolve(_journal, localId);
        }
    }

    // Delivers what is pending unless the server was found unreachable less than RetryInterval ago.
    private void TryDeliver()
    {
        if (_refusal is not null) throw _refusal;
        if (_journal.Pending == 0 || DateTime.UtcNow < _retryAt) return;
        try
        {
            JournalDelivery.Deliver(_journal, _inner, _firstAttempts);
            _warned = false;
        }
        catch (TrackingException e) when (e.Transient)
        {
            GoOffline(e);
        }
        catch (TrackingException e)
        {
            _refusal = new TrackingException(
                $"{e.Message} (tracking stopped; the undelivered records stay in {_journal.JournalPath})", false, e);
            throw _refusal;
        }
    }

    private void GoOffline(TrackingException e)
    {
        _retryAt = DateTime.UtcNow + RetryInterval;
        if (_warned) return;
        _warned = true;
        PeftLog.Line(typeof(OutboxTracker).FullName!, $"warning: {e.Message}");
        PeftLog.Line(typeof(OutboxTracker).FullName!, $"warning: tracking goes on offline into {_journal.JournalPath}; it is delivered when the server answers or by `peft tracking sync`.");
    }

    /// <summary>Makes a last delivery attempt; what is left stays in the outbox (message on stderr).</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            if (_refusal is null && _journal.Pending > 0)
            {
                _retryAt = DateTime.MinValue;
                try { TryDeliver(); } catch (TrackingException) { }
            }
            if (_journal.Pending == 0) _journal.Delete();
            else
            {
                PeftLog.Line(typeof(OutboxTracker).FullName!, $"{_journal.Pending} tracking records for {Uri} are kept in {_journal.JournalPath}; `peft tracking sync` sends them.");
                _journal.Dispose();
            }
            _inner.Dispose();
        }
    }

    /// <summary>What a crash leaves: the journal and its lock released, nothing delivered or removed (tests).</summary>
    internal void Abandon()
    {
        lock (_gate)
        {
            _disposed = true;
            _journal.Dispose();
            _inner.Dispose();
        }
    }
}
