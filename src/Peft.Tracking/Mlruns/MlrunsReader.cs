using System.Globalization;
using System.Text;
using Peft.Core.Tracking;
using Peft.IO;
using Peft.Core.Diagnostics;

namespace Peft.Tracking.Mlruns;

/// <summary>
/// Reads an mlruns folder (MLflow's FileStore layout) back: experiments, runs, params, tags, metric histories and
/// the latest value per metric. Tolerates writers working at the same time: a folder whose meta.yaml is missing,
/// empty or unreadable is skipped (it is being created), and a metric line not yet finished is ignored. A metric
/// file that does not parse (damaged by hand or by a disk) is left out of its run with one warning naming the file,
/// so one bad file never stops the reading of every other run.
/// </summary>
public sealed class MlrunsReader
{
    public const string TrashFolder = ".trash";
    // Experiment sub-folders that are not runs (FileStore's RESERVED_EXPERIMENT_FOLDERS, plus 3.x logged models).
    private static readonly HashSet<string> ReservedExperimentFolders = ["tags", "datasets", "traces", "models"];

    public MlrunsReader(string uriOrPath) => Root = MlrunsPaths.RootOf(uriOrPath);

    public string Root { get; }

    /// <summary>Told once per damaged file (default: a <c>warning:</c> line on stderr).</summary>
    public Action<string> Warn { get; init; } = message => PeftLog.Line(typeof(MlrunsReader).FullName!, $"warning: {message}");

    private readonly HashSet<string> _warned = new(StringComparer.Ordinal);

    /// <summary>Active experiments, plus the deleted ones in <c>.trash</c> when asked.</summary>
    public IReadOnlyList<MlrunsExperiment> Experiments(bool includeDeleted = false)
    {
        var found = ReadExperimentsIn(Root).Where(e => includeDeleted || e.IsActive).ToList();
        if (includeDeleted) found.AddRange(ReadExperimentsIn(Path.Combine(Root, TrashFolder)));
        return found;
    }

    /// <summary>The active experiment of that name, or null.</summary>
    public MlrunsExperiment? FindExperiment(string name) => Experiments().FirstOrDefault(e => e.Name == name);

    public MlrunsExperiment GetExperiment(string experimentId) =>
        ReadExperiment(Path.Combine(Root, experimentId)) ?? ReadExperiment(Path.Combine(Root, TrashFolder, experimentId))
        ?? throw new TrackingException($"experiment '{experimentId}' does not exist in {Root}", false);

    /// <summary>The runs of an experiment (active ones unless asked), in folder order.</summary>
    public IReadOnlyList<MlrunsRun> Runs(string experimentId, bool includeDeleted = false)
    {
        var dir = GetExperiment(experimentId).Directory;
        var runs = new List<MlrunsRun>();
        foreach (var runDir in Directory.EnumerateDirectories(dir).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(runDir);
            if (ReservedExperimentFolders.Contains(name) || name.StartsWith('.')) continue;
            var run = ReadRun(runDir, experimentId);
            if (run is not null && (includeDeleted || run.IsActive)) runs.Add(run);
        }
        return runs;
    }

    /// <summary>A run by id, searched in every experiment; null when absent.</summary>
    public MlrunsRun? FindRun(string runId)
    {
        foreach (var experiment in Experiments(includeDeleted: true))
        {
            var runDir = Path.Combine(experiment.Directory, runId);
            if (Directory.Exists(runDir) && ReadRun(runDir, experiment.ExperimentId) is { } run) return run;
        }
        return null;
    }

    private static IEnumerable<MlrunsExperiment> ReadExperimentsIn(string folder)
    {
        if (!Directory.Exists(folder)) yield break;
        foreach (var dir in Directory.EnumerateDirectories(folder).Order(StringComparer.Ordinal))
        {
            if (Path.GetFileName(dir).StartsWith('.')) continue;
            if (ReadExperiment(dir) is { } experiment) yield return experiment;
        }
    }

    internal static MlrunsExperiment? ReadExperiment(string dir)
    {
        var meta = TryReadMeta(dir);
        if (meta is null) return null;
        var id = MetaYaml.GetString(meta, "experiment_id");
        var name = MetaYaml.GetString(meta, "name");
        if (id != Path.GetFileName(dir) || name is null) return null; // MLflow ignores such folders too
        return new MlrunsExperiment(id, name, MetaYaml.GetString(meta, "artifact_location") ?? "",
            MetaYaml.GetString(meta, "lifecycle_stage") ?? "active", MetaYaml.GetLong(meta, "creation_time"),
            MetaYaml.GetLong(meta, "last_update_time"), ReadValueFiles(Path.Combine(dir, "tags")), dir);
    }

    internal MlrunsRun? ReadRun(string runDir, string experimentId)
    {
        var meta = TryReadMeta(runDir);
        if (meta is null) return null;
        var runId = MetaYaml.GetString(meta, "run_id") ?? MetaYaml.GetString(meta, "run_uuid");
        if (runId != Path.GetFileName(runDir) || MetaYaml.GetString(meta, "experiment_id") != experimentId) return null;
        var tags = ReadValueFiles(Path.Combine(runDir, "tags"));
        var history = ReadMetrics(Path.Combine(runDir, "metrics"));
        var runName = MetaYaml.GetString(meta, "run_name");
        if (string.IsNullOrEmpty(runName)) runName = tags.GetValueOrDefault("mlflow.runName", "");
        var status = MetaYaml.GetLong(meta, "status") is { } s && Enum.IsDefined(typeof(RunStatus), (int)s) ? (RunStatus)s
            : StatusFromName(MetaYaml.GetString(meta, "status"));
        return new MlrunsRun(runId, experimentId, runName, status, MetaYaml.GetLong(meta, "start_time"),
            MetaYaml.GetLong(meta, "end_time"), MetaYaml.GetString(meta, "artifact_uri") ?? "",
            MetaYaml.GetString(meta, "lifecycle_stage") ?? "active", MetaYaml.GetString(meta, "user_id") ?? "",
            ReadValueFiles(Path.Combine(runDir, "params")), tags,
            history.ToDictionary(kv => kv.Key, kv => Latest(kv.Value)), history, runDir);
    }

    // A missing status reads as RUNNING, as in FileStore._read_persisted_run_info_dict.
    private static RunStatus StatusFromName(string? name) =>
        Enum.TryParse<RunStatus>(name, ignoreCase: true, out var status) ? status : RunStatus.Running;

    /// <summary>MLflow's latest metric: the maximum by (step, timestamp, value).</summary>
    public static MetricPoint Latest(IReadOnlyList<MetricPoint> points) =>
        points.MaxBy(p => (p.Step, p.TimestampMs, p.Value), Comparer<(long, long, double)>.Create(CompareLatest))!;

    private static int CompareLatest((long step, long time, double value) a, (long step, long time, double value) b)
    {
        int c = a.step.CompareTo(b.step);
        if (c != 0) return c;
        c = a.time.CompareTo(b.time);
        return c != 0 ? c : a.value.CompareTo(b.value);
    }

    private static Dictionary<string, object?>? TryReadMeta(string dir)
    {
        try
        {
            var text = File.ReadAllText(Path.Combine(dir, "meta.yaml"));
            return string.IsNullOrWhiteSpace(text) ? null : MetaYaml.Read(text);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or System.Text.Json.JsonException)
        {
            return null;
        }
    }

    /// <summary>Params or tags: one file per key, nested folders for '/' in keys, raw content as value.</summary>
    private static Dictionary<string, string> ReadValueFiles(string dir)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, path) in KeyFiles(dir))
        {
            try { values[key] = File.ReadAllText(path, Encoding.UTF8); }
            catch (FileNotFoundException) { } // replaced at this moment by a writer; the next read sees it
        }
        return values;
    }

    private Dictionary<string, IReadOnlyList<MetricPoint>> ReadMetrics(string dir)
    {
        var metrics = new Dictionary<string, IReadOnlyList<MetricPoint>>(StringComparer.Ordinal);
        foreach (var (key, path) in KeyFiles(dir))
        {
            List<MetricPoint> points;
            try
            {
                points = ParseMetricFile(key, File.ReadAllText(path));
            }
            catch (FileNotFoundException) { continue; } // removed at this moment (run deleted by its owner)
            catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
            {
                bool first;
                lock (_warned) first = _warned.Add(path);
                if (first) Warn($"{path}: skipped, not a readable MLflow metric file ({e.Message}); fix or delete it");
                continue;
            }
            if (points.Count > 0) metrics[key] = points;
        }
        return metrics;
    }

    /// <summary>Lines <c>timestamp value step</c> (or legacy <c>timestamp value</c>); an unfinished last line is left for later.</summary>
    internal static List<MetricPoint> ParseMetricFile(string key, string text)
    {
        var points = new List<MetricPoint>();
        int end = text.LastIndexOf('\n');
        if (end < 0) return points;
        foreach (var line in text[..end].Split('\n'))
        {
            if (line.Length == 0) continue;
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length is not (2 or 3) || !long.TryParse(fields[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var time)
                || !PythonFloat.TryParse(fields[1], out var value))
                throw new InvalidDataException($"metric '{key}' is malformed: line '{line}' is not 'timestamp value step'");
            long step = 0;
            if (fields.Length == 3 && !long.TryParse(fields[2], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out step))
                throw new InvalidDataException($"metric '{key}' is malformed: step '{fields[2]}' in line '{line}'");
            points.Add(new MetricPoint(key, value, time, step));
        }
        return points;
    }

    private static IEnumerable<(string key, string path)> KeyFiles(string dir)
    {
        if (!Directory.Exists(dir)) return [];
        return Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
            .Where(path => !AtomicFile.IsTemporary(Path.GetFileName(path)))
            .Select(path => (Path.GetRelativePath(dir, path).Replace(Path.DirectorySeparatorChar, '/'), path))
            .OrderBy(kv => kv.Item1, StringComparer.Ordinal);
    }
}
