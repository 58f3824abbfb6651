using Peft.Core;
using System.Globalization;
using Microsoft.Extensions.Configuration;
using Peft.Data.Datasets;
using Peft.Host.Plugins;
using Peft.Results;
using Peft.IO;

namespace Peft.Host.Experiments;

/// <summary>
/// Turns an <see cref="ExperimentConfiguration"/> into an <see cref="ExperimentSpec"/>, checking everything before any
/// work starts and reporting every problem at once (<see cref="ExperimentValidationException"/>), each with its
/// configuration path. Relative paths written in the file resolve against the file's folder (dataset roots against
/// <c>dataRoot</c>); paths given by environment variables or <c>--set</c>, and the defaults, against the current directory.
/// </summary>
public sealed class ExperimentReader(MethodCatalog catalog)
{
    /// <summary>The current directory for defaults and overrides (tests set it).</summary>
    public string CurrentDirectory { get; init; } = Environment.CurrentDirectory;
    /// <summary>Where the feature cache and splits go when the file says nothing.</summary>
    public string DefaultCacheDir { get; init; } = PeftHome.Resolve("cache");
    /// <summary>
    /// Reports only: a method no installed plugin provides is kept by name (its options unchecked) instead of being an
    /// error, so that results of a plugin method can be reported without the plugin. Never for planning or running.
    /// </summary>
    public bool AcceptUninstalledMethods { get; init; }

    public ExperimentSpec Read(ExperimentConfiguration config)
    {
        var problems = new List<string>();
        var root = config.Root;
        foreach (var key in root.GetChildren().Select(c => c.Key))
            if (!ExperimentConfiguration.TopLevelKeys.Contains(key, StringComparer.OrdinalIgnoreCase))
                problems.Add($"{key}: unknown setting; valid: {string.Join(", ", ExperimentConfiguration.TopLevelKeys)}");

        var name = root["name"]?.Trim() ?? "";
        if (name.Length == 0) problems.Add("name: missing; every experiment needs a name (it names the output folder and the MLflow experiment)");
        else if (name.IndexOfAny(['/', '\\', '\0']) >= 0 || name is "." or "..")
            problems.Add($"name: '{name}' cannot name a folder (no '/' or '\\')");
        else if (NameLengthProblem(name) is { } nameProblem) problems.Add($"name: {nameProblem}");

        var backbone = ReadBackbone(config, problems);
        var dataRoot = root["dataRoot"] is { } dr ? Resolve(config, "dataRoot", dr) : Path.GetDirectoryName(config.FilePath)!;
        var datasets = ReadDatasets(config, dataRoot, problems);
        var shots = ReadIntList(root.GetSection("shots"), 1, problems);
        var seeds = ReadIntList(root.GetSection("seeds"), 0, problems);
        var sampling = root["sampling"] ?? "dassl";
        if (sampling != "dassl") problems.Add($"sampling: '{sampling}' cannot draw few-shot splits; valid: dassl");
        var valShots = root["valShots"] is { } vs ? ReadInt("valShots", vs, 0, problems) : null;
        var trainViews = root["trainViews"] is { } tv ? ReadInt("trainViews", tv, 0, problems) ?? 10 : 10;
        var methods = ReadMethods(root.GetSection("methods"), problems);
        var (augmentation, byMethod) = ExperimentAugmentation.Read(root.GetSection("augmentation"), methods, problems);
        var protocol = root["protocol"] ?? ExperimentProtocol.FewShot;
        if (!ExperimentProtocol.Names.Contains(protocol))
            problems.Add($"protocol: '{protocol}' is not one of: {string.Join(", ", ExperimentProtocol.Names)}");
        else
            methods = methods.Select(m => m with
            {
                ByDataset = datasets.DistinctBy(d => d.Name).ToDictionary(d => d.Name, d => MethodPresets.Apply(m, d, protocol, problems)),
            }).ToList();

        var ablation = ReadAblation(root.GetSection("ablation"), methods, problems);
        var classes = root["classes"] ?? ExperimentClasses.All;
        if (!ExperimentClasses.Names.Contains(classes))
            problems.Add($"classes: '{classes}' is not one of: {string.Join(", ", ExperimentClasses.Names)}");
        else if (classes == ExperimentClasses.BaseToNew)
            foreach (var d in datasets.Where(d => d.Targets.Count > 0))
                problems.Add($"datasets: {d.Name} has shift targets, which score the source's classes; under classes: {ExperimentClasses.BaseToNew} a cell is trained on half of them. Run distribution shift in an experiment with classes: {ExperimentClasses.All}");

        EncoderTier.Validate(backbone, datasets, methods, classes, problems);

        var tracking = root.GetSection("tracking");
        CheckKeys(tracking, ["uri", "experimentName"], problems);
        var uri = tracking["uri"] is { } u ? ResolveUri(config, "tracking:uri", u, problems) : Path.GetFullPath(Path.Combine(CurrentDirectory, "mlruns"));
        var experimentName = tracking["experimentName"] is { Length: > 0 } en ? en : name;
        if (Peft.Tracking.TrackingKeys.CodePoints(experimentName) > Peft.Tracking.TrackingKeys.MaxExperimentNameLength)
            problems.Add($"tracking:experimentName: {Peft.Tracking.TrackingKeys.CodePoints(experimentName)} characters; MLflow allows at most {Peft.Tracking.TrackingKeys.MaxExperimentNameLength}");
        var output = root["output"] is { } o ? Resolve(config, "output", o) : Path.GetFullPath(Path.Combine(CurrentDirectory, "runs", name));
        var cache = root["cache"] is { } c ? Resolve(config, "cache", c) : DefaultCacheDir;
        foreach (var (key, folder) in new[] { ("output", output), ("cache", cache) })
            if (File.Exists(folder)) problems.Add($"{key}: {folder} is a file; give a folder");

        if (problems.Count > 0) throw new ExperimentValidationException(config.FilePath, problems);
        return new ExperimentSpec
        {
            Name = name, Description = root["description"] ?? "", SourcePath = config.FilePath, Backbone = backbone!,
            Datasets = datasets, Shots = shots, Seeds = seeds, Sampling = sampling, ValShots = valShots, TrainViews = trainViews,
            Augmentation = augmentation, AugmentationByMethod = byMethod, Protocol = protocol, Classes = classes, Methods = methods, Ablation = ablation, Tracking = new TrackingSpec(uri, experimentName),
            OutputDir = output, CacheDir = cache,
        };
    }

    BackboneSpec? ReadBackbone(ExperimentConfiguration config, List<string> problems)
    {
        var section = config.Root.GetSection("backbone");
        CheckKeys(section, ["model", "dtype", "encoderDtype", "preprocess"], problems);
        string? model = null;
        if (section["model"] is not { Length: > 0 } m) problems.Add($"backbone:model: missing; give a CLIP checkpoint path (e.g. the output of {PeftCommand.Name} models pull ViT-B/16)");
        else
        {
            model = Resolve(config, "backbone:model", m);
            // "tiny-clip", "tiny-clip-vit": the tiny CLIPs that ship with the program (the peft .NET tool has no checkout).
            if (Peft.Models.BundledModels.PathOf(m) is { } bundled && !File.Exists(model) && File.Exists(bundled)) model = bundled;
            if (!File.Exists(model) && !Directory.Exists(model)) problems.Add($"backbone:model: file not found: {model}");
        }
        var dtype = section["dtype"] ?? "fp32";
        if (!BackboneSpec.Dtypes.Contains(dtype)) problems.Add($"backbone:dtype: '{dtype}' is not one of: {string.Join(", ", BackboneSpec.Dtypes)}");
        var encoderDtype = section["encoderDtype"];
        if (encoderDtype is not null && !BackboneSpec.Dtypes.Contains(encoderDtype))
            problems.Add($"backbone:encoderDtype: '{encoderDtype}' is not one of: {string.Join(", ", BackboneSpec.Dtypes)}");
        var preprocess = section["preprocess"] ?? "clip";
        if (!BackboneSpec.Preprocessings.Contains(preprocess))
            problems.Add($"backbone:preprocess: '{preprocess}' is not one of: {string.Join(", ", BackboneSpec.Preprocessings)}");
        return model is null ? null : new BackboneSpec(model, dtype, preprocess) { EncoderDtype = encoderDtype };
    }

    List<DatasetSpec> ReadDatasets(ExperimentConfiguration config, string dataRoot, List<string> problems)
    {
        var section = config.Root.GetSection("datasets");
        var list = new List<DatasetSpec>();
        if (!IsList(section, "datasets", "dataset", problems)) return list;
        var names = new HashSet<string>(StringComparer.Ordinal);
        var targetPaths = new List<(DatasetSpec Target, string Path)>();
        foreach (var entry in section.GetChildren())
        {
            if (ReadDataset(config, entry, dataRoot, ["name", "type", "root", "targets", "transfer"], names, problems) is not { } dataset) continue;
            // Shift targets (same classes) and transfer targets (their own classes) share one set of names per source.
            var targetNames = new HashSet<string>(StringComparer.Ordinal);
            var targets = ReadTargets(entry.GetSection("targets"), "shift", "shift target");
            var transfer = ReadTargets(entry.GetSection("transfer"), "transfer", "transfer target");
            List<DatasetSpec> ReadTargets(IConfigurationSection targetSection, string prefix, string what)
            {
                var read = new List<DatasetSpec>();
                if (!targetSection.Exists() || !IsList(targetSection, targetSection.Path, what.Replace(" target", " dataset"), problems)) return read;
                foreach (var target in targetSection.GetChildren())
                    if (ReadDataset(config, target, dataRoot, ["name", "type", "root"], targetNames, problems) is { } t)
                    {
                        // The name is part of MLflow metric keys (<prefix>/<target>/test_top1), which allow only these characters.
                        if (!System.Text.RegularExpressions.Regex.IsMatch(t.Name, "^[A-Za-z0-9_.\\- ]+$"))
                            problems.Add($"{target.Path}:name: '{t.Name}': a {what}'s name is part of MLflow metric keys ({prefix}/<name>/test_top1); use letters, digits, '_', '-', '.' and spaces");
                        else { read.Add(t); targetPaths.Add((t, target.Path)); }
                    }
                return read;
            }
            list.Add(dataset with { Targets = targets, Transfer = transfer });
        }
        // A target may be a dataset of the experiment too (the same data), but not another dataset under the same name.
        foreach (var (t, path) in targetPaths)
                if (list.FirstOrDefault(o => o.Name == t.Name) is { } same && (same.Type != t.Type || same.Root != t.Root))
                    problems.Add($"{path}:name: '{t.Name}' names another dataset of this experiment ({same.Type} at {same.Root}); give the target a name of its own");
        return list;
    }

    /// <summary>One dataset entry (a dataset or a shift target); null when it has a problem. Names are unique across both.</summary>
    DatasetSpec? ReadDataset(ExperimentConfiguration config, IConfigurationSection entry, string dataRoot, string[] keys, HashSet<string> names, List<string> problems)
    {
        string path = entry.Path;
        CheckKeys(entry, keys, problems);
        var type = entry["type"];
        if (string.IsNullOrWhiteSpace(type)) { problems.Add($"{path}:type: missing; valid: {string.Join(", ", DatasetRegistry.Names)}"); return null; }
        if (!DatasetRegistry.TryGet(type, out var reader))
        {
            problems.Add($"{path}:type: unknown dataset type '{type}'; valid: {string.Join(", ", DatasetRegistry.Names)}");
            return null;
        }
        var name = entry["name"] is { Length: > 0 } n ? n : reader.Name;
        if (name.IndexOfAny(['/', '\\', ':', '\0']) >= 0 || name is "." or "..")
            problems.Add($"{path}:name: '{name}' cannot name a folder (no '/', '\\' or ':')");
        else if (NameLengthProblem(name) is { } nameProblem) problems.Add($"{path}:name: {nameProblem}");
        else if (!names.Add(name))
            problems.Add($"{path}:name: '{name}' is used by an earlier dataset; give each a distinct name");
        string root = entry["root"] is { Length: > 0 } r
            ? Path.GetFullPath(Path.Combine(config.OriginOf($"{path}:root") == ConfigOrigin.File ? dataRoot : CurrentDirectory, r))
            : dataRoot;
        // Datasets without a root of their own share dataRoot: one problem for all of them.
        var at = entry["root"] is { Length: > 0 } ? $"{path}:root" : "dataRoot";
        if (reader.RootIsFile) { if (!File.Exists(root)) problems.Add($"{at}: file not found: {root}"); }
        else if (!reader.CreatesMissingRoot && !Directory.Exists(root) && !problems.Contains($"{at}: folder not found: {root}")) problems.Add($"{at}: folder not found: {root}");
        return new DatasetSpec(name, reader.Name, root);
    }

    List<MethodSpec> ReadMethods(IConfigurationSection section, List<string> problems)
    {
        var installed = string.Join(", ", catalog.Methods.Select(m => m.Name));
        var methods = new List<MethodSpec>();
        var children = section.GetChildren().ToList();
        // The JSON provider keeps an empty object or array as an empty value.
        if (section.Value is { Length: > 0 } || children.Any(c => int.TryParse(c.Key, out _)))
        {
            problems.Add($"methods: must be an object of method name → options ({{\"zero-shot\": {{}}}}); installed: {installed}");
            return methods;
        }
        if (children.Count == 0) problems.Add($"methods: missing or empty; list at least one method; installed: {installed}");
        foreach (var child in children)
        {
            // A variant: any row name with "method" naming the plugin method it runs with other fixed options.
            var variantOf = child.GetSection(VariantKey);
            string pluginName = child.Key;
            if (variantOf.Exists())
            {
                if (variantOf.Value is not { Length: > 0 } baseName)
                {
                    problems.Add($"{variantOf.Path}: must name an installed method (a string); installed: {installed}");
                    continue;
                }
                if (!System.Text.RegularExpressions.Regex.IsMatch(child.Key, "^[a-z0-9][a-z0-9._-]*$"))
                {
                    problems.Add($"{child.Path}: variant name '{child.Key}': use lower-case letters, digits, '-', '_' and '.' (it becomes part of MLflow metric keys and file names)");
                    continue;
                }
                pluginName = baseName;
            }
            var descriptor = catalog.Methods.FirstOrDefault(m => string.Equals(m.Name, pluginName, StringComparison.OrdinalIgnoreCase));
            if (descriptor is null && AcceptUninstalledMethods)
            {
                var absent = new MethodDescriptor(pluginName.ToLowerInvariant(), "not installed (read for a report)", typeof(object),
                    _ => throw new InvalidOperationException($"method '{pluginName}' is not installed; load its plugin (--plugins, \"plugins\" or PEFT_PLUGINS)"));
                methods.Add(new MethodSpec(child.Key, absent, [new GridPoint(new Dictionary<string, string?>(), new object(), new Dictionary<string, string>(), new Dictionary<string, string>())]));
                continue;
            }
            if (descriptor is null)
            {
                var at = variantOf.Exists() ? variantOf.Path : child.Path;
                problems.Add($"{at}: unknown method '{pluginName}'; installed: {installed}" +
                    " (a plugin method needs its folder: --plugins <dir>, the experiment's \"plugins\" list or PEFT_PLUGINS)");
                continue;
            }
            if (variantOf.Exists() && !string.Equals(child.Key, descriptor.Name, StringComparison.OrdinalIgnoreCase)
                && catalog.Methods.FirstOrDefault(m => string.Equals(m.Name, child.Key, StringComparison.OrdinalIgnoreCase)) is { } shadowed)
            {
                problems.Add($"{child.Path}: variant name '{child.Key}' is the name of installed method {shadowed.Name}; give the variant a name of its own");
                continue;
            }
            if (child.Value is { Length: > 0 }) { problems.Add($"{child.Path}: must be an object of options ({{}} for the published defaults)"); continue; }
            if (methods.Any(m => string.Equals(m.Name, child.Key, StringComparison.OrdinalIgnoreCase)))
            {
                problems.Add($"{child.Path}: '{child.Key}' is listed twice (names are case-insensitive)");
                continue;
            }
            var points = HyperparameterGrid.Expand(descriptor, child, problems, skip: variantOf.Exists() ? VariantKey : null);
            if (points.Count > 0) methods.Add(new MethodSpec(child.Key.ToLowerInvariant() == descriptor.Name ? descriptor.Name : child.Key, descriptor, points));
        }
        return methods.OrderBy(m => m.Name, StringComparer.Ordinal).ToList();
    }

    /// <summary><c>"ablation": true</c> (every method with a grid) or a list of method names: which grids get the ablation view.</summary>
    static HashSet<string> ReadAblation(IConfigurationSection section, IReadOnlyList<MethodSpec> methods, List<string> problems)
    {
        var chosen = new HashSet<string>(StringComparer.Ordinal);
        if (!section.Exists()) return chosen;
        var grids = methods.Where(m => m.IsGrid).Select(m => m.Name).ToList();
        if (section.Value is { } flag)
        {
            if (!bool.TryParse(flag, out var on)) problems.Add($"ablation: must be true, false or a list of methods with a grid, got '{flag}'");
            else if (on && grids.Count == 0) problems.Add("ablation: no method of this experiment has a grid (a list of values for an option) to show every point of");
            else if (on) chosen.UnionWith(grids);
            return chosen;
        }
        foreach (var child in section.GetChildren())
        {
            var method = methods.FirstOrDefault(m => string.Equals(m.Name, child.Value, StringComparison.OrdinalIgnoreCase));
            if (method is null) problems.Add($"{child.Path}: '{child.Value}' is not a method of this experiment; methods: {string.Join(", ", methods.Select(m => m.Name))}");
            else if (!method.IsGrid) problems.Add($"{child.Path}: {method.Name} has no grid (give an option a list of values) to show every point of");
            else chosen.Add(method.Name);
        }
        return chosen;
    }

    /// <summary>The key of a method entry that makes it a variant: the installed method it runs (<c>{"clip-adapter-text":
    /// {"method": "clip-adapter", "branch": "text"}}</c>). The entry's own name is its row in every table, result and run.</summary>
    public const string VariantKey = "method";

    /// <summary>Longest experiment or dataset name: each names a folder (runs/&lt;name&gt;, results/&lt;dataset&gt;/…), and
    /// Linux allows 255 bytes per path component.</summary>
    public const int MaxNameLength = 128;

    /// <summary>Null when <paramref name="name"/> can name a folder on every common file system, else why not.</summary>
    static string? NameLengthProblem(string name)
    {
        if (name.Any(char.IsControl)) return $"'{name.Replace("\n", "\\n")}' contains a control character (e.g. a newline); it names a folder";
        int bytes = System.Text.Encoding.UTF8.GetByteCount(name);
        if (name.Length > MaxNameLength || bytes > 255)
            return $"'{name[..Math.Min(name.Length, 40)]}…' is {name.Length} characters ({bytes} bytes); at most {MaxNameLength} characters, as it names a folder";
        return null;
    }

    static List<int> ReadIntList(IConfigurationSection section, int min, List<string> problems)
    {
        var values = new List<int>();
        // A single value (e.g. --set shots=4) is a list of one.
        var items = section.Value is { Length: > 0 } single ? [(section.Path, single)] : section.GetChildren().Select(c => (c.Path, c.Value ?? "")).ToList();
        if (items.Count == 0) { problems.Add($"{section.Path}: missing or empty; list at least one value"); return values; }
        foreach (var (path, text) in items)
        {
            if (ReadInt(path, text, min, problems) is not int v) continue;
            if (values.Contains(v)) problems.Add($"{section.Path}: {v} is listed twice");
            else values.Add(v);
        }
        return values;
    }

    static int? ReadInt(string path, string text, int min, List<string> problems)
    {
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v))
        {
            problems.Add($"{path}: must be a whole number, got '{text}'");
            return null;
        }
        if (v < min) { problems.Add($"{path}: must be ≥ {min}, got {v}"); return null; }
        return v;
    }

    static bool IsList(IConfigurationSection section, string path, string what, List<string> problems)
    {
        var children = section.GetChildren().ToList();
        if (section.Value is { Length: > 0 } || children.Any(c => !int.TryParse(c.Key, out _)))
        {
            problems.Add($"{path}: must be a list of {what}s");
            return false;
        }
        if (children.Count == 0) { problems.Add($"{path}: missing or empty; list at least one {what}"); return false; }
        return true;
    }

    static void CheckKeys(IConfigurationSection section, string[] valid, List<string> problems)
    {
        foreach (var child in section.GetChildren())
            if (!valid.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
                problems.Add($"{child.Path}: unknown setting; valid: {string.Join(", ", valid)}");
    }

    string Resolve(ExperimentConfiguration config, string key, string value)
    {
        if (value.StartsWith("~/", StringComparison.Ordinal))
            value = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), value[2..]);
        var baseDir = config.OriginOf(key) == ConfigOrigin.File ? Path.GetDirectoryName(config.FilePath)! : CurrentDirectory;
        return Path.GetFullPath(Path.Combine(baseDir, value));
    }

    /// <summary>Server URIs stay as they are; a folder (or <c>file:</c> URI) becomes an absolute path.</summary>
    string ResolveUri(ExperimentConfiguration config, string key, string value, List<string> problems)
    {
        if (Peft.Tracking.TrackingTargets.Refusal(value) is { } refusal) { problems.Add($"{key}: {refusal}"); return value; }
        if (value.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || value.StartsWith("https://", StringComparison.OrdinalIgnoreCase)) return value;
        if (value.StartsWith("file:", StringComparison.OrdinalIgnoreCase) && System.Uri.TryCreate(value, UriKind.Absolute, out var file)) return file.LocalPath;
        return Resolve(config, key, value);
    }
}
