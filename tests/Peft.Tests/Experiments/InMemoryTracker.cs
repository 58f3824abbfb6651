using Peft.Core.Tracking;

namespace Peft.Tests.Experiments;

/// <summary>An <see cref="IExperimentTracker"/> in memory, for runner tests; <see cref="Down"/> makes every call fail as an unreachable server would.</summary>
sealed class InMemoryTracker : IExperimentTracker
{
    public sealed class Run
    {
        public required string Id { get; init; }
        public required string ExperimentId { get; init; }
        public required string Name { get; init; }
        public RunStatus Status { get; set; } = RunStatus.Running;
        public Dictionary<string, string> Tags { get; } = [];
        public Dictionary<string, string> Params { get; } = [];
        public List<MetricPoint> Metrics { get; } = [];
        public Dictionary<string, byte[]> Artifacts { get; } = [];
    }

    readonly Dictionary<string, string> _experiments = [];
    public List<Run> Runs { get; } = [];
    public bool Down { get; set; }
    /// <summary>Only searches fail (a server that went away after the run started).</summary>
    public bool FindDown { get; set; }

    public string Uri => "memory://";

    void Check()
    {
        if (Down) throw new TrackingException("memory tracker: server unreachable", transient: true);
    }

    public string GetOrCreateExperiment(string name)
    {
        Check();
        if (!_experiments.TryGetValue(name, out var id)) _experiments[name] = id = (_experiments.Count + 1).ToString();
        return id;
    }

    public string CreateRun(string experimentId, string runName, long startTimeMs, IReadOnlyDictionary<string, string> tags)
    {
        Check();
        var run = new Run { Id = $"run{Runs.Count + 1}", ExperimentId = experimentId, Name = runName };
        foreach (var (k, v) in tags) run.Tags[k] = v;
        Runs.Add(run);
        return run.Id;
    }

    Run Get(string runId) => Runs.Single(r => r.Id == runId);

    public void LogBatch(string runId, IReadOnlyList<MetricPoint> metrics, IReadOnlyDictionary<string, string> parameters, IReadOnlyDictionary<string, string> tags)
    {
        Check();
        var run = Get(runId);
        run.Metrics.AddRange(metrics);
        foreach (var (k, v) in parameters)
        {
            if (run.Params.TryGetValue(k, out var old) && old != v) throw new TrackingException($"param {k} changed from {old} to {v}", transient: false);
            run.Params[k] = v;
        }
        foreach (var (k, v) in tags) run.Tags[k] = v;
    }

    public void LogArtifact(string runId, string relativePath, ReadOnlyMemory<byte> content)
    {
        Check();
        Get(runId).Artifacts[relativePath] = content.ToArray();
    }

    public void EndRun(string runId, RunStatus status, long endTimeMs)
    {
        Check();
        Get(runId).Status = status;
    }

    public IReadOnlyList<TrackedRun> FindRuns(string experimentId, string tagKey, string tagValue)
    {
        Check();
        if (FindDown) throw new TrackingException("memory tracker: search unavailable", transient: true);
        return Runs.Where(r => r.ExperimentId == experimentId && r.Tags.GetValueOrDefault(tagKey) == tagValue)
            .Select(r => new TrackedRun(r.Id, r.Name, r.Status, r.Tags)
            {
                Params = r.Params, Metrics = r.Metrics.GroupBy(m => m.Key).ToDictionary(g => g.Key, g => g.Last().Value),
            }).ToList();
    }

    /// <summary>The child runs of one cell.</summary>
    public List<Run> CellRuns(string cellKey) => Runs.Where(r => r.Tags.GetValueOrDefault("peft.cell") == cellKey).ToList();

    public void Dispose() { }
}
