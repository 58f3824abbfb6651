using System.Text.Json;
using Microsoft.Extensions.Configuration;

namespace Peft.Host.Experiments;

/// <summary>
/// The settings of one experiment after overrides: the JSON file, then environment variables, then <c>--set</c>
/// (later wins). An override replaces the whole value at its path — a scalar, or a list written as JSON
/// (<c>--set shots=[1,2]</c>) — so a list in the file never mixes with an overriding one; <c>shots:0=4</c> replaces a
/// single element. Keys are configuration paths (<c>methods:coop:nCtx</c>), case-insensitive. A method set to nothing
/// (<c>--set methods:linear-probe=</c>) is dropped from the experiment.
/// </summary>
public sealed class ExperimentConfiguration
{
    /// <summary>Top-level keys of an experiment file (PEFT_ variables whose first part is not one of them are program settings, ignored here).</summary>
    public static readonly IReadOnlyList<string> TopLevelKeys =
    [
        "name", "description", "backbone", "datasets", "dataRoot", "shots", "seeds", "sampling", "valShots", "trainViews",
        "augmentation", "protocol", "methods", "tracking", "output", "cache", "plugins", "ablation", "classes",
    ];

    /// <summary>
    /// Plugin folders the experiment asks for: <c>"plugins": ["dir", ...]</c> (or one string of folders separated by
    /// ':', as <c>PEFT_PLUGINS</c> gives it), relative to the experiment file; overridable like any setting.
    /// </summary>
    public IReadOnlyList<string> PluginFolders()
    {
        var section = Root.GetSection("plugins");
        var items = section.Value is { Length: > 0 } list
            ? [("plugins", list.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))]
            : section.GetChildren().Where(c => c.Value is { Length: > 0 }).Select(c => (c.Path, new[] { c.Value! })).ToList();
        // Folders the file names are relative to it; those from the environment or --set to the current directory.
        return items.SelectMany(i => i.Item2.Select(folder => Path.GetFullPath(folder,
            OriginOf(i.Item1) == ConfigOrigin.File ? Path.GetDirectoryName(FilePath)! : Environment.CurrentDirectory))).ToList();
    }
    public const string EnvironmentPrefix = "PEFT_";
    public const string TrackingUriVariable = "MLFLOW_TRACKING_URI";

    readonly Dictionary<string, (string? Value, ConfigOrigin Origin)> _entries;

    /// <summary>The experiment file (absolute).</summary>
    public string FilePath { get; }
    public IConfiguration Root { get; }

    ExperimentConfiguration(string filePath, Dictionary<string, (string? Value, ConfigOrigin Origin)> entries)
    {
        FilePath = filePath;
        _entries = entries;
        Root = new ConfigurationBuilder().AddInMemoryCollection(entries.Select(e => new KeyValuePair<string, string?>(e.Key, e.Value.Value))).Build();
    }

    /// <summary>Which layer set <paramref name="path"/> (the file when nothing overrode it).</summary>
    public ConfigOrigin OriginOf(string path) => _entries.TryGetValue(path, out var e) ? e.Origin : ConfigOrigin.File;

    /// <param name="sets"><c>key=value</c> overrides from the command line, in order.</param>
    /// <param name="environment">The environment variables (tests pass their own).</param>
    public static ExperimentConfiguration Load(string path, IEnumerable<string>? sets = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full)) throw new FileNotFoundException($"{full}: experiment file not found", full);
        var entries = new Dictionary<string, (string? Value, ConfigOrigin Origin)>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in FlattenJson(File.ReadAllText(full), full, "")) entries[key] = (value, ConfigOrigin.File);

        environment ??= Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .ToDictionary(e => (string)e.Key, e => (string?)e.Value ?? "");
        foreach (var (name, value) in environment.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            string? key = name == TrackingUriVariable ? "tracking:uri"
                : name.StartsWith(EnvironmentPrefix, StringComparison.Ordinal) ? name[EnvironmentPrefix.Length..].Replace("__", ":") : null;
            if (key is null || !TopLevelKeys.Contains(key.Split(':')[0], StringComparer.OrdinalIgnoreCase)) continue;
            Override(entries, key, value, ConfigOrigin.Environment, $"environment variable {name}");
        }
        foreach (var set in sets ?? [])
        {
            int eq = set.IndexOf('=');
            if (eq <= 0) throw new ArgumentException($"--set '{set}': expected key=value (e.g. --set methods:clip-adapter:alpha=0.5)");
            Override(entries, set[..eq].Trim(), set[(eq + 1)..], ConfigOrigin.CommandLine, $"--set {set}");
        }
        return new ExperimentConfiguration(full, entries);
    }

    static void Override(Dictionary<string, (string? Value, ConfigOrigin Origin)> entries, string key, string value, ConfigOrigin origin, string what)
    {
        // methods:<name> set to nothing drops that method (--set methods:linear-probe=).
        var parts = key.Split(':');
        if (parts.Length == 2 && parts[0].Equals("methods", StringComparison.OrdinalIgnoreCase) && string.IsNullOrWhiteSpace(value))
        {
            var own = entries.Keys.Where(k => k.Equals(key, StringComparison.OrdinalIgnoreCase) || k.StartsWith(key + ":", StringComparison.OrdinalIgnoreCase)).ToList();
            if (own.Count == 0)
                throw new ArgumentException($"{what}: the experiment has no method '{parts[1]}' to drop; its methods: " +
                    string.Join(", ", entries.Keys.Where(k => k.StartsWith("methods:", StringComparison.OrdinalIgnoreCase)).Select(k => k.Split(':')[1]).Distinct(StringComparer.OrdinalIgnoreCase)));
            foreach (var k in own) entries.Remove(k);
            return;
        }
        foreach (var k in entries.Keys.Where(k => k.StartsWith(key + ":", StringComparison.OrdinalIgnoreCase)).ToList()) entries.Remove(k);
        // Parents of the key are objects or lists now: a scalar value there would hide the new child.
        for (int i = key.IndexOf(':'); i > 0; i = key.IndexOf(':', i + 1))
            if (entries.TryGetValue(key[..i], out var parent) && parent.Value is not null) entries.Remove(key[..i]);
        var trimmed = value.TrimStart();
        if (trimmed.StartsWith('[') || trimmed.StartsWith('{'))
        {
            entries.Remove(key);
            foreach (var (k, v) in FlattenJson(value, what, key)) entries[k] = (v, origin);
        }
        else entries[key] = (value, origin);
    }

    /// <summary>
    /// Configuration keys of a JSON document, as Microsoft.Extensions.Configuration's JSON provider makes them (arrays
    /// as <c>key:0</c>, <c>key:1</c>; empty objects and arrays kept as a key without value). The file is parsed first
    /// with System.Text.Json so a syntax error names its line.
    /// </summary>
    static IEnumerable<KeyValuePair<string, string?>> FlattenJson(string json, string source, string prefix)
    {
        try
        {
            using var _ = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: not valid JSON at line {(e.LineNumber ?? 0) + 1}, byte {(e.BytePositionInLine ?? 0) + 1}: {e.Message.Split(" Path:")[0].Split(" LineNumber:")[0]}", e);
        }
        var wrapped = prefix.Length == 0 ? json : WrapUnder(prefix, json);
        using var stream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(wrapped));
        IConfigurationRoot config;
        try { config = new ConfigurationBuilder().AddJsonStream(stream).Build(); }
        catch (FormatException e) { throw new InvalidDataException($"{source}: {e.Message}", e); } // e.g. the top level is not an object
        return config.AsEnumerable().Where(e => e.Value is not null || !config.GetSection(e.Key).GetChildren().Any()).ToList();
    }

    /// <summary>A JSON value placed at a configuration path, as an object nesting (<c>a:b</c>, <c>[1]</c> → <c>{"a":{"b":[1]}}</c>).</summary>
    static string WrapUnder(string path, string json)
    {
        var parts = path.Split(':');
        return string.Concat(parts.Select(p => "{" + JsonSerializer.Serialize(p) + ":")) + json + new string('}', parts.Length);
    }
}
