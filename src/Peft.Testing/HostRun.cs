using System.Text.Json;
using Peft.Clip.Native;
using Peft.Core;
using Peft.Host;
using Peft.Host.Experiments;
using Peft.Host.Plugins;
using Peft.Methods.ZeroShot;
using Peft.Tracking.Mlruns;
using Peft.IO;

namespace Peft.Testing;

/// <summary>What <see cref="HostRun.OnSyntheticWorld"/> runs.</summary>
public sealed record HostRunOptions
{
    /// <summary>Synthetic task: synth_shapes (10 shapes), synth_fine (12 shades) or synth_shift (pencil outlines).</summary>
    public string Dataset { get; init; } = "synth_shapes";
    public IReadOnlyList<int> Shots { get; init; } = [1];
    public IReadOnlyList<int> Seeds { get; init; } = [1];
    /// <summary>Cached augmented views per training image (what <c>TrainViews(v)</c> can ask for).</summary>
    public int TrainViews { get; init; } = 1;
    /// <summary>The method's options as a JSON object (the experiment file's <c>methods:&lt;name&gt;</c>); null: defaults.</summary>
    public string? MethodOptionsJson { get; init; }
    /// <summary>Run zero-shot CLIP too (same cells), for comparison.</summary>
    public bool WithZeroShot { get; init; } = true;
    /// <summary>libtorch threads; null: PEFT_THREADS, else the machine's default.</summary>
    public int? Threads { get; init; }
    /// <summary>Where the experiment file, results and mlruns go; null: a new temporary folder.</summary>
    public string? WorkDirectory { get; init; }
    /// <summary>Where the synthetic world is generated once (a few seconds); null: <c>$PEFT_HOME/testing/synth</c>.</summary>
    public string? WorldDirectory { get; init; }
    /// <summary>Feature cache; null: the host's default (<c>$PEFT_HOME/cache</c>).</summary>
    public string? CacheDirectory { get; init; }
    /// <summary>Progress lines of the runner (null: none).</summary>
    public TextWriter? Log { get; init; }
}

/// <summary>One cell's result: test accuracies (%) on images the method never saw.</summary>
public sealed record CellAccuracy(string Method, string Dataset, int Shots, int Seed, double TestTop1, double TestMeanPerClass,
    double? ValTop1, double FitSeconds, long TrainableParameters);

/// <summary>Every cell of a <see cref="HostRun"/>.</summary>
public sealed record HostRunResult(IReadOnlyList<CellAccuracy> Cells, string WorkDirectory, string ExperimentFile)
{
    /// <summary>Mean test top-1 accuracy (%) of a method over its cells.</summary>
    public double Accuracy(string method)
    {
        var cells = Cells.Where(c => string.Equals(c.Method, method, StringComparison.OrdinalIgnoreCase)).ToList();
        if (cells.Count == 0) throw new ArgumentException($"no results for '{method}'; methods run: {string.Join(", ", Cells.Select(c => c.Method).Distinct())}");
        return cells.Average(c => c.TestTop1);
    }
}

/// <summary>
/// Runs a method through the real peft host — experiment reader and validation of its options, few-shot splits,
/// feature cache, the runner, evaluation on held-out test images, MLflow records in an mlruns folder — on the synthetic
/// world with the tiny CLIP (both come with this package), next to zero-shot CLIP. What <c>peft run</c> does, in
/// process, with the plugin given as an object instead of a folder.
/// </summary>
public static class HostRun
{
    /// <summary>Runs <paramref name="method"/> (registered by <paramref name="plugin"/>); throws if any cell fails.</summary>
    public static HostRunResult OnSyntheticWorld(IMethodPlugin plugin, string method, HostRunOptions? options = null)
    {
        options ??= new HostRunOptions();
        PeftTesting.EnsureNativeLibraries();
        ThreadBudget.Apply(ThreadBudget.Resolve(options.Threads));
        var work = options.WorkDirectory is { } w ? Directory.CreateDirectory(w).FullName : Directory.CreateTempSubdirectory("peft-hostrun-").FullName;
        var world = Path.GetFullPath(options.WorldDirectory ?? PeftHome.Resolve(Path.Combine("testing", "synth")));
        var methods = new Dictionary<string, JsonElement>();
        if (options.WithZeroShot) methods["zero-shot"] = JsonDocument.Parse("{}").RootElement;
        methods[method] = JsonDocument.Parse(options.MethodOptionsJson ?? "{}").RootElement;
        var experiment = new Dictionary<string, object?>
        {
            ["name"] = $"hostrun-{method}",
            ["backbone"] = new { model = PeftTesting.TinyClipPath(), dtype = "fp32", preprocess = "clip" },
            ["dataRoot"] = world,
            ["datasets"] = new[] { new { type = options.Dataset } },
            ["shots"] = options.Shots, ["seeds"] = options.Seeds, ["trainViews"] = options.TrainViews,
            ["methods"] = methods,
            ["output"] = Path.Combine(work, "out"),
            ["tracking"] = new { uri = Path.Combine(work, "mlruns") },
        };
        if (options.CacheDirectory is { } cache) experiment["cache"] = Path.GetFullPath(cache);
        var file = Path.Combine(work, "experiment.json");
        File.WriteAllText(file, JsonSerializer.Serialize(experiment, new JsonSerializerOptions { WriteIndented = true }));

        var catalog = options.WithZeroShot ? MethodCatalog.From(new ZeroShotPlugin(), plugin) : MethodCatalog.From(plugin);
        var spec = new ExperimentReader(catalog) { CurrentDirectory = work }
            .Read(ExperimentConfiguration.Load(file, [], new Dictionary<string, string>()));
        RunSummary summary;
        using (var tracker = new FileStoreTracker(Path.Combine(work, "mlruns")))
            summary = new ExperimentRunner(spec, tracker) { Log = options.Log ?? TextWriter.Null }.Run();
        if (summary.Failures.Count > 0)
            throw new InvalidOperationException($"{summary.Failures.Count} cell(s) failed (experiment {file}):\n" +
                                                string.Join("\n", summary.Failures.Select(f => $"  {f.Key}: {f.Value}")));
        var results = ResultCheck.Of(new LocalResultStore(spec.OutputDir), new ExperimentPlan(spec).Cells).Results;
        var cells = results.Select(r => new CellAccuracy(r.Method, r.Dataset, r.Shots, r.Seed, r.TestTop1, r.TestMeanPerClass, r.ValTop1,
            r.FitSeconds, r.TrainableParameters)).OrderBy(c => c.Method, StringComparer.Ordinal).ThenBy(c => c.Shots).ThenBy(c => c.Seed).ToList();
        return new HostRunResult(cells, work, file);
    }
}
