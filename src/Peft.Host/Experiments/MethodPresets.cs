using Peft.Core;
using Peft.Results;

namespace Peft.Host.Experiments;

/// <summary>
/// Fills a method's official per-dataset values in under the experiment's options. Order, later wins: the option
/// defaults; the method's preset for the dataset type (<see cref="MethodDescriptor.Presets"/>); under the as-published
/// protocol its selection rules (<see cref="MethodDescriptor.AsPublished"/>); then every option the experiment file
/// writes for the method (an explicit option always overrides a preset). Datasets without a preset keep the defaults.
/// Also rejects, outside the as-published protocol, options that select on withheld data (<see cref="IMethodOptions.UsesOracle"/>).
/// </summary>
public static class MethodPresets
{
    public static DatasetMethodPoints Apply(MethodSpec method, DatasetSpec dataset, string protocol, List<string> problems)
    {
        var d = method.Descriptor;
        var presets = new List<OptionPreset>();
        if (d.PresetFor(dataset.Type) is { } preset) presets.Add(preset);
        if (protocol == ExperimentProtocol.AsPublished && d.AsPublishedFor(dataset.Type) is { } rules) presets.Add(rules);

        var properties = HyperparameterGrid.Properties(d);
        var points = new List<GridPoint>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var overridden = new SortedSet<string>(StringComparer.OrdinalIgnoreCase);
        string path = $"methods:{method.Name}";
        foreach (var point in method.Points)
        {
            var user = point.Section.Keys.Select(Option).ToHashSet(StringComparer.OrdinalIgnoreCase);
            var entries = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
            foreach (var p in presets)
                foreach (var option in p.Options)
                {
                    if (user.Contains(option)) { overridden.Add(option); continue; }
                    foreach (var key in entries.Keys.Where(k => string.Equals(Option(k), option, StringComparison.OrdinalIgnoreCase)).ToList()) entries.Remove(key);
                    foreach (var (key, value) in p.Values.Where(kv => string.Equals(Option(kv.Key), option, StringComparison.OrdinalIgnoreCase)))
                        entries[key] = value;
                }
            foreach (var (key, value) in point.Section) entries[key] = value;
            var at = presets.Count == 0 ? path : $"{path} (with the {dataset.Type} preset, dataset '{dataset.Name}')";
            var bound = presets.Count == 0 ? point : HyperparameterGrid.Bind(d, at, entries, new Dictionary<string, string>(point.AxisValues), properties, problems, seen);
            if (bound is null) continue;
            if (protocol != ExperimentProtocol.AsPublished && bound.Options is IMethodOptions { UsesOracle: true })
            {
                var message = $"{path}: these options select on test or full-validation data (the official selection rules); they need protocol: \"{ExperimentProtocol.AsPublished}\"";
                if (seen.Add(message)) problems.Add(message);
                continue;
            }
            points.Add(bound);
        }
        return new DatasetMethodPoints(points, presets, Describe(presets, overridden));
    }

    /// <summary>e.g. <c>eurosat: initAlpha, epochs (gaopengcuhk/Tip-Adapter@d0e2d6f configs/eurosat.yaml); experiment overrides: epochs</c>.</summary>
    static string Describe(List<OptionPreset> presets, SortedSet<string> overridden)
    {
        if (presets.Count == 0) return "none";
        var parts = presets.Select(p => $"{p.Dataset}: {string.Join(", ", p.Options)} ({p.Source})");
        var text = string.Join("; ", parts);
        return overridden.Count == 0 ? text : $"{text}; experiment overrides: {string.Join(", ", overridden)}";
    }

    static string Option(string key) => key.Split(':')[0];
}
