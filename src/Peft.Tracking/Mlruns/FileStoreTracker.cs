using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Peft.Core.Tracking;
using Peft.IO;
using Peft.Core.Diagnostics;

namespace Peft.Tracking.Mlruns;

/// <summary>
/// Writes an mlruns folder in exactly the layout MLflow's FileStore reads (so <c>mlflow ui --backend-store-uri
/// ./mlruns</c> shows it). Every meta.yaml and tag file is written to a temporary file and renamed; params are
/// created with an atomic create-if-absent, so several processes may write runs into one folder at once.
/// Experiment ids are 18-digit numbers derived from the name and claimed with mkdir(2): two processes creating
/// the same new experiment pick the same folder and exactly one of them creates it.
/// </summary>
public sealed class FileStoreTracker : IExperimentTracker
{
    public const string DefaultExperimentId = "0";
    private const int SourceTypeLocal = 4;
    private static readonly TimeSpan MetaWaitLimit = TimeSpan.FromSeconds(10);

    private readonly MlrunsReader _reader;
    private readonly Dictionary<string, string> _runDirectories = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    /// <param name="uriOrPath">A <c>file:</c> URI or a plain path (created if absent), e.g. <c>./mlruns</c>.</param>
    public FileStoreTracker(string uriOrPath = "./mlruns")
    {
        Root = MlrunsPaths.RootOf(uriOrPath);
        _reader = new MlrunsReader(Root);
        Directory.CreateDirectory(Root);
        Directory.CreateDirectory(Path.Combine(Root, MlrunsReader.TrashFolder));
        // FileStore creates the "Default" experiment 0 in a new folder; MLflow's UI expects it.
        var defaultDir = Path.Combine(Root, DefaultExperimentId);
        if (AtomicDirectory.TryCreate(defaultDir)) WriteExperimentMeta(defaultDir, DefaultExperimentId, "Default");
    }

    public string Root { get; }

    public string Uri => MlrunsPaths.FileUriOf(Root);

    public string GetOrCreateExperiment(string name)
    {
        TrackingKeys.ValidateExperimentName(name);
        foreach (var existing in _reader.Experiments(includeDeleted: true).Where(e => e.Name == name))
            return ActiveIdOrThrow(existing);
        for (int attempt = 0; ; attempt++)
        {
            var id = ExperimentIdFor(name, attempt);
            var dir = Path.Combine(Root, id);
            if (AtomicDirectory.TryCreate(dir))
            {
                WriteExperimentMeta(dir, id, name);
                return id;
            }
            var claimed = WaitForExperimentMeta(dir, id, name);
            if (claimed.Name == name) return ActiveIdOrThrow(claimed);
            // Another name hashed to this id (or an MLflow-made folder took it): try the next id in the sequence.
        }
    }

    private string ActiveIdOrThrow(MlrunsExperiment experiment) => experiment.IsActive ? experiment.ExperimentId
        : throw new TrackingException(
            $"experiment '{experiment.Name}' exists in {Root} but is deleted (id {experiment.ExperimentId}); restore it " +
            "(mlflow experiments restore) or purge it (mlflow gc) before using the name again", false);

    /// <summary>An 18-digit id like FileStore's random ones, but a function of the name, so racing creators agree.</summary>
    internal static string ExperimentIdFor(string name, int attempt)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{name}\n{attempt}"));
        var number = BitConverter.ToUInt64(hash, 0) % 900_000_000_000_000_000UL + 100_000_000_000_000_000UL;
        return number.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// The experiment in <paramref name="dir"/>, the folder of <paramref name="name"/>'s id: waits while another process
    /// writes its meta.yaml. A folder whose meta.yaml stays missing or unreadable (deleted by hand, or its creator
    /// crashed) is this name's experiment — the id is a hash of the name — so its meta.yaml is written again and its
    /// runs are kept. A folder that already holds runs is not being created, so it is repaired without waiting.
    /// </summary>
    private MlrunsExperiment WaitForExperimentMeta(string dir, string id, string name)
    {
        var deadline = DateTime.UtcNow + MetaWaitLimit;
        while (true)
        {
            if (MlrunsReader.ReadExperiment(dir) is { } experiment) return experiment;
            if (DateTime.UtcNow > deadline || Directory.EnumerateDirectories(dir).Any()) break;
            Thread.Sleep(20);
        }
        var meta = Path.Combine(dir, "meta.yaml");
        string? keptAs = null;
        if (File.Exists(meta))
        {
            keptAs = meta + ".unreadable-" + DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
            File.Move(meta, keptAs);
        }
        WriteExperimentMeta(dir, id, name, Directory.GetCreationTimeUtc(dir));
        PeftLog.Line(typeof(FileStoreTracker).FullName!, $"warning: {meta} was {(keptAs is null ? "missing" : $"unreadable (kept as {Path.GetFileName(keptAs)})")}; " +
                                $"wrote it again for experiment '{name}' (id {id}, from the folder name); its runs are kept");
        return MlrunsReader.ReadExperiment(dir)
               ?? throw new TrackingException($"{meta}: written again but still not readable; check the folder's permissions", false);
    }

    private void WriteExperimentMeta(string dir, string id, string name, DateTime? createdUtc = null)
    {
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var meta = new Dictionary<string, object?>
        {
            ["artifact_location"] = MlrunsPaths.FileUriOf(dir),
            ["creation_time"] = createdUtc is { } c ? Math.Min(now, new DateTimeOffset(c, TimeSpan.Zero).ToUnixTimeMilliseconds()) : now,
            ["experiment_id"] = id,
            ["last_update_time"] = now,
            ["lifecycle_stage"] = "active",
            ["name"] = name,
        };
        AtomicFile.Replace(Path.Combine(dir, "meta.yaml"), Encoding.UTF8.GetBytes(MetaYaml.Write(meta)));
    }

    public string CreateRun(string experimentId, string runName, long startTimeMs, IReadOnlyDictionary<string, string> tags)
    {
        ArgumentNullException.ThrowIfNull(tags);
        var experiment = MlrunsReader.ReadExperiment(Path.Combine(Root, experimentId ?? ""))
                         ?? throw new TrackingException($"experiment '{experimentId}' does not exist in {Root}", false);
        if (!experiment.IsActive)
            throw new TrackingException($"experiment '{experiment.Name}' (id {experimentId}) is deleted; cannot create runs in it", false);
        foreach (var key in tags.Keys) TrackingKeys.Validate(key, "tag");
        if (startTimeMs < 0) throw new TrackingException($"run start time {startTimeMs} is negative", false);

        var runId = Guid.NewGuid().ToString("N");
        var tagName = tags.GetValueOrDefault(RunNameTag);
        if (!string.IsNullOrEmpty(runName) && tagName is not null && tagName != runName)
            throw new TrackingException($"run name '{runName}' and tag {RunNameTag} '{tagName}' differ; MLflow requires them to be equal", false);
        var name = !string.IsNullOrEmpty(runName) ? runName : !string.IsNullOrEmpty(tagName) ? tagName : runId[..8];
        var allTags = new Dictionary<string, string>(tags, StringComparer.Ordinal) { [RunNameTag] = name };

        var runDir = Path.Combine(experiment.Directory, runId);
        foreach (var sub in new[] { "metrics", "params", "tags", "artifacts" }) Directory.CreateDirectory(Path.Combine(runDir, sub));
        var artifactUri = experiment.ArtifactLocation.TrimEnd('/') + "/" + runId + "/artifacts";
        if (MlrunsPaths.LocalPathOfFileUri(artifactUri) is { } artifactDir) Directory.CreateDirectory(artifactDir);
        WriteTags(runDir, allTags);
        // meta.yaml last: readers (ours and MLflow's) see the run only once it is complete.
        var meta = new Dictionary<string, object?>
        {
            ["artifact_uri"] = artifactUri,
            ["deleted_time"] = null,
            ["end_time"] = null,
            ["entry_point_name"] = "",
            ["experiment_id"] = experimentId,
            ["lifecycle_stage"] = "active",
            ["run_id"] = runId,
            ["run_name"] = name,
            ["run_uuid"] = runId,
            ["source_name"] = "",
            ["source_type"] = SourceTypeLocal,
            ["source_version"] = "",
            ["start_time"] = startTimeMs,
            ["status"] = (int)RunStatus.Running,
            ["tags"] = MetaYaml.EmptyList,
            ["user_id"] = Environment.UserName,
        };
        AtomicFile.Replace(Path.Combine(runDir, "meta.yaml"), Encoding.UTF8.GetBytes(MetaYaml.Write(meta)), runDir);
        lock (_gate) _runDirectories[runId] = runDir;
        return runId;
    }

    private const string RunNameTag = "mlflow.runName";

    public void LogBatch(string runId, IReadOnlyList<MetricPoint> metrics, IReadOnlyDictionary<string, string> parameters,
        IReadOnlyDictionary<string, string> tags)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(tags);
        var runDir = ActiveRunDirectory(runId);
        // Everything is checked before anything is written: a refused batch leaves the run as it was.
        foreach (var m in metrics)
        {
            TrackingKeys.Validate(m.Key, "metric");
            if (m.TimestampMs < 0) throw new TrackingException($"metric '{m.Key}' has a negative timestamp {m.TimestampMs}", false);
        }
        var paramValues = parameters.ToDictionary(kv => kv.Key, kv =>
        {
            TrackingKeys.Validate(kv.Key, "param");
            return TrackingKeys.TruncateValue(kv.Key, kv.Value, TrackingKeys.MaxParamValueLength, "param");
        }, StringComparer.Ordinal);
        var tagValues = tags.ToDictionary(kv => kv.Key, kv =>
        {
            TrackingKeys.Validate(kv.Key, "tag");
            return TrackingKeys.TruncateValue(kv.Key, kv.Value, TrackingKeys.MaxTagValueLength, "tag");
        }, StringComparer.Ordinal);
        foreach (var (key, value) in paramValues)
        {
            var path = Path.Combine(runDir, "params", key);
            if (File.Exists(path)) CheckSameParam(runId, key, File.ReadAllText(path, Encoding.UTF8), value);
        }

        foreach (var (key, value) in paramValues)
        {
            var path = Path.Combine(runDir, "params", key);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            if (!AtomicFile.TryCreate(path, Encoding.UTF8.GetBytes(value), runDir))
                CheckSameParam(runId, key, File.ReadAllText(path, Encoding.UTF8), value); // lost a race to another writer
        }
        foreach (var group in metrics.GroupBy(m => m.Key, StringComparer.Ordinal)) AppendMetric(runDir, group.Key, group);
        WriteTags(runDir, tagValues);
    }

    private static void CheckSameParam(string runId, string key, string existing, string value)
    {
        if (existing != value)
            throw new TrackingException(
                $"param '{key}' of run {runId} already has the value '{existing}'; MLflow params are write-once (refused '{value}')", false);
    }

    // One write per key so concurrent readers see whole lines (they ignore an unfinished last line anyway).
    private static void AppendMetric(string runDir, string key, IEnumerable<MetricPoint> points)
    {
        var path = Path.Combine(runDir, "metrics", key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var lines = new StringBuilder();
        foreach (var p in points)
            lines.Append(p.TimestampMs.ToString(CultureInfo.InvariantCulture)).Append(' ').Append(PythonFloat.Format(p.Value))
                .Append(' ').Append(p.Step.ToString(CultureInfo.InvariantCulture)).Append('\n');
        using var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
        stream.Write(Encoding.UTF8.GetBytes(lines.ToString()));
        stream.Flush(flushToDisk: true);
    }

    private static void WriteTags(string runDir, IReadOnlyDictionary<string, string> tags)
    {
        foreach (var (key, value) in tags)
        {
            var path = Path.Combine(runDir, "tags", key);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            AtomicFile.Replace(path, Encoding.UTF8.GetBytes(value), runDir);
        }
    }

    public void LogArtifact(string runId, string relativePath, ReadOnlyMemory<byte> content)
    {
        TrackingKeys.ValidateArtifactPath(relativePath);
        var runDir = ActiveRunDirectory(runId);
        var artifactUri = MetaYaml.GetString(ReadRunMeta(runId, runDir), "artifact_uri") ?? "";
        var artifactDir = MlrunsPaths.LocalPathOfFileUri(artifactUri)
                          ?? throw new TrackingException(
                              $"run {runId} stores artifacts at '{artifactUri}', which is not a local file: location; an mlruns folder can only write local artifacts", false);
        var path = Path.Combine(artifactDir, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var staging = Path.GetFullPath(artifactDir).StartsWith(runDir, StringComparison.Ordinal) ? runDir : null;
        AtomicFile.Replace(path, content.Span, staging);
    }

    public void EndRun(string runId, RunStatus status, long endTimeMs)
    {
        if (!Enum.IsDefined(status)) throw new TrackingException($"run status {(int)status} is not an MLflow run status", false);
        var runDir = ActiveRunDirectory(runId);
        var meta = ReadRunMeta(runId, runDir);
        meta["status"] = (long)status;
        meta["end_time"] = endTimeMs;
        AtomicFile.Replace(Path.Combine(runDir, "meta.yaml"), Encoding.UTF8.GetBytes(MetaYaml.Write(meta)), runDir);
    }

    public IReadOnlyList<TrackedRun> FindRuns(string experimentId, string tagKey, string tagValue) =>
        _reader.Runs(experimentId)
            .Where(r => r.Tags.TryGetValue(tagKey, out var v) && v == tagValue)
            .Select(r => new TrackedRun(r.RunId, r.RunName, r.Status, r.Tags)
            {
                Params = r.Params, Metrics = r.LatestMetrics.ToDictionary(m => m.Key, m => m.Value.Value),
            })
            .ToList();

    private string ActiveRunDirectory(string runId)
    {
        if (string.IsNullOrEmpty(runId)) throw new TrackingException("run id is empty", false);
        string? runDir;
        lock (_gate) _runDirectories.TryGetValue(runId, out runDir);
        if (runDir is null)
        {
            var run = _reader.FindRun(runId) ?? throw new TrackingException($"run '{runId}' does not exist in {Root}", false);
            runDir = run.Directory;
            lock (_gate) _runDirectories[runId] = runDir;
        }
        if (MetaYaml.GetString(ReadRunMeta(runId, runDir), "lifecycle_stage") is { } stage && stage != "active")
            throw new TrackingException($"run '{runId}' is deleted; MLflow only logs to runs in the 'active' state", false);
        return runDir;
    }

    private static Dictionary<string, object?> ReadRunMeta(string runId, string runDir)
    {
        try
        {
            return MetaYaml.Read(File.ReadAllText(Path.Combine(runDir, "meta.yaml")));
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            throw new TrackingException($"run '{runId}': cannot read {Path.Combine(runDir, "meta.yaml")}: {e.Message}", false, e);
        }
    }

    public void Dispose() { }
}
