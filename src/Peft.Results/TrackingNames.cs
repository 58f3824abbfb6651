namespace Peft.Results;

/// <summary>
/// The names the runner logs under and the report reads back: one place, so an <c>mlruns</c> folder written by any
/// version of the runner reads the same way. Accuracies are logged in percent.
/// </summary>
public static class TrackingNames
{
    // Params of a child run (one cell). Method options are logged as "method.<option>" (camelCase option name).
    public const string Dataset = "dataset";
    public const string Shots = "shots";
    public const string Seed = "seed";
    public const string Method = "method";
    public const string MethodPlugin = "method_plugin"; // the installed method a variant runs (logged for variants only)
    public const string Backbone = "backbone";
    public const string Sampling = "sampling";
    public const string ValShots = "val_shots";
    public const string TrainViews = "train_views";
    public const string MethodOptionPrefix = "method.";

    // Metrics of a child run.
    public const string TestTop1 = "test_top1";
    public const string TestMeanPerClass = "test_mean_per_class";
    public const string ValTop1 = "val_top1";
    public const string ValMeanPerClass = "val_mean_per_class";
    public const string FitSeconds = "fit_seconds";
    public const string EvalSeconds = "eval_seconds";
    public const string TrainableParameters = "trainable_parameters";
    public const string PeakMemoryMb = "peak_memory_mb";
    public const string MemoryIncreaseMb = "memory_increase_mb";
    public const string Threads = "threads";
    public const string LoadAverage = "load_average";
    /// <summary>Prefix of what a method logs through its metric sink (e.g. "train/loss" with step = epoch).</summary>
    public const string MethodMetricPrefix = "train/";

    // Tags.
    public const string ParentRunId = "mlflow.parentRunId";
    public const string RunNameTag = "mlflow.runName";
    public const string CellTag = "peft.cell";
    public const string ShiftMetricPrefix = "shift/";    // shift/<target>/test_top1: a cell's accuracy on a distribution-shift target
    public static string ShiftMetric(string target, string metric) => ShiftMetricPrefix + target + "/" + metric;
    public static (string Target, string Metric)? ParseShiftMetric(string key) => ParseTargetMetric(ShiftMetricPrefix, key);
    public const string TransferMetricPrefix = "transfer/"; // transfer/<target>/test_top1: cross-dataset transfer (the target's own classes)
    public static string TransferMetric(string target, string metric) => TransferMetricPrefix + target + "/" + metric;
    public static (string Target, string Metric)? ParseTransferMetric(string key) => ParseTargetMetric(TransferMetricPrefix, key);
    public const string NewClassesMetricPrefix = "new/"; // new/test_top1: base-to-new cells, the new classes' test accuracy
    public static (string Target, string Metric)? ParseTargetMetric(string prefix, string key)
    {
        if (!key.StartsWith(prefix, StringComparison.Ordinal)) return null;
        int slash = key.LastIndexOf('/');
        if (slash <= prefix.Length) return null;
        string metric = key[(slash + 1)..];
        return metric is TestTop1 or TestMeanPerClass ? (key[prefix.Length..slash], metric) : null;
    }
    public const string AblationRole = "ablation-point";  // peft.role of a grid point's nested run (the ablation view)
    public const string AblationOfTag = "peft.ablation_of"; // the cell key of an ablation point (not peft.cell: it is not a cell's run)
    public const string AblationSelectedTag = "peft.selected"; // on an ablation point: the point validation chose
    public const string AblationPointParam = "ablation_point"; // its index in grid order
    public const string ExperimentTag = "peft.experiment";
    public const string InvocationTag = "peft.invocation";
    public const string RoleTag = "peft.role";           // "parent" or "cell"
    public const string SplitHashTag = "peft.split_sha256";
    public const string FeatureCacheKeyTag = "peft.feature_cache_key";
    public const string CodeVersionTag = "peft.code_version";
    public const string ShardTag = "peft.shard";         // "i/N"
    public const string ResultHashTag = "peft.result_sha256"; // CellResultHash of the result the run logged
    public const string RecreatedFromTag = "peft.recreated_from"; // a run logged again from a local result after it was deleted
    public const string ShortClassesTag = "peft.short_classes"; // classes with fewer images than shots (see ShortClassNotice)
    public const string ProcessTag = "peft.process";     // "host:pid:start-ticks" of the invocation (parent runs)

    // Artifacts of a child run.
    public const string SplitArtifact = "split.json";
    public const string PerClassArtifact = "per_class_accuracy.json";
    public const string GridArtifact = "grid.json";
    public const string WeightsArtifact = "weights.safetensors";

    public static string CellKey(string dataset, int shots, int seed, string method) => $"{dataset}/{shots}/{seed}/{method}";

    /// <summary>A run name that reads well in the MLflow UI's run table.</summary>
    public static string CellRunName(string dataset, int shots, int seed, string method) => $"{method} · {dataset} · {shots}-shot · seed {seed}";
}
