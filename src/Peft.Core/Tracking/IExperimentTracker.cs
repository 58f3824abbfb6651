namespace Peft.Core.Tracking;

/// <summary>
/// Where the host records experiments: an MLflow tracking server (REST) or an <c>mlruns</c> folder (MLflow's file
/// store), both implemented in Peft.Tracking. The vocabulary is MLflow's: experiments hold runs; a run has params
/// (write-once strings), metrics (append-only points with steps), tags (overwritable strings) and artifacts.
/// Implementations split batches to the server's limits and throw <see cref="TrackingException"/> with the
/// operation and the server's message when a request is refused.
/// </summary>
public interface IExperimentTracker : IDisposable
{
    /// <summary>The tracking URI, for messages (<c>file:///…/mlruns</c>, <c>http://host:5000</c>).</summary>
    string Uri { get; }

    /// <summary>The id of the active experiment of that name, created if absent.</summary>
    string GetOrCreateExperiment(string name);

    /// <summary>Starts a run (status RUNNING) and returns its id. Put <c>mlflow.parentRunId</c> in the tags for a child run.</summary>
    string CreateRun(string experimentId, string runName, long startTimeMs, IReadOnlyDictionary<string, string> tags);

    void LogBatch(string runId, IReadOnlyList<MetricPoint> metrics, IReadOnlyDictionary<string, string> parameters,
        IReadOnlyDictionary<string, string> tags);

    /// <summary>Stores one artifact file of the run under a relative path (<c>split.json</c>, <c>weights/adapter.safetensors</c>).</summary>
    void LogArtifact(string runId, string relativePath, ReadOnlyMemory<byte> content);

    void EndRun(string runId, RunStatus status, long endTimeMs);

    /// <summary>The experiment's active runs whose tag <paramref name="tagKey"/> equals <paramref name="tagValue"/>.</summary>
    IReadOnlyList<TrackedRun> FindRuns(string experimentId, string tagKey, string tagValue);
}
