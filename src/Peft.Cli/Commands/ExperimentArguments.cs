using System.CommandLine;
using Peft.Host;
using Peft.Host.Experiments;
using Peft.Clip.Native;
using Peft.Host.Plugins;

namespace Peft.Cli.Commands;

/// <summary>The arguments <c>peft plan</c> and <c>peft run</c> share: the experiment file, overrides, shard and plugin folders.</summary>
sealed class ExperimentArguments
{
    public Argument<string> File { get; } = new("experiment") { Description = "Experiment file (experiments/*.json)" };
    public Option<string[]> Set { get; } = new("--set")
    {
        Description = "Override a setting by configuration path, e.g. --set methods:clip-adapter:alpha=0.5 or --set shots=[1,2] (repeatable; file < PEFT_* environment < --set)",
        AllowMultipleArgumentsPerToken = false,
    };
    public Option<string?> Shard { get; } = new("--shard") { Description = "Run shard i of N (0-based), e.g. 0/4; default from JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID" };
    public Option<int?> ShardCount { get; } = new("--shard-count") { Description = "Number of shards when the index comes from JOB_COMPLETION_INDEX (else PEFT_SHARD_COUNT)" };
    public Option<string[]> Plugins { get; } = new("--plugins") { Description = "Extra plugin folders to load", AllowMultipleArgumentsPerToken = true };
    public Option<int?> Threads { get; } = new("--threads")
    {
        Description = $"Threads to compute with (libtorch and image decoding); default {ThreadBudget.EnvironmentVariable}, else the CPUs this process may use, at most the physical cores",
    };

    public void AddTo(Command command)
    {
        command.Add(File);
        command.Add(Set);
        command.Add(Shard);
        command.Add(ShardCount);
        command.Add(Plugins);
        command.Add(Threads);
    }

    /// <summary>
    /// <c>peft &lt;verb&gt;</c> (as the user invokes it: <see cref="PeftCommand"/>) on the same experiment with the same <c>--set</c> and <c>--plugins</c> (what a hint should
    /// print: the bare file would name other results after <c>--set output=…</c>), quoted for a POSIX shell.
    /// </summary>
    public string CommandLine(string verb, string file, ParseResult parse)
    {
        var words = new List<string> { PeftCommand.Name, verb, file };
        foreach (var set in parse.GetValue(Set) ?? []) words.AddRange(["--set", set]);
        foreach (var folder in parse.GetValue(Plugins) ?? []) words.AddRange(["--plugins", folder]);
        return string.Join(' ', words.Select(Quote));
    }

    static string Quote(string word) =>
        word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || "-_./:=,@+%".Contains(c)) ? word : $"'{word.Replace("'", "'\\''")}'";

    /// <summary>Applies <c>--threads</c> (else PEFT_THREADS, else the machine's default) process-wide; returns the number.</summary>
    public int ApplyThreads(ParseResult parse)
    {
        int threads = ThreadBudget.Resolve(parse.GetValue(Threads));
        ThreadBudget.Apply(threads);
        return threads;
    }

    /// <summary>Loads plugins, reads and validates the experiment (every problem at once), and resolves the shard.</summary>
    public (ExperimentSpec Spec, Shard Shard) Read(ParseResult parse)
    {
        var spec = ReadSpec(parse.GetValue(File)!, parse);
        return (spec, Host.Experiments.Shard.Resolve(parse.GetValue(Shard), parse.GetValue(ShardCount)));
    }

    /// <summary>Loads plugins and reads and validates the experiment file with the command line's overrides.</summary>
    /// <param name="forReport">Keep methods whose plugin is not installed (a report reads their results only).</param>
    public ExperimentSpec ReadSpec(string file, ParseResult parse, bool forReport = false)
    {
        var config = ExperimentConfiguration.Load(file, parse.GetValue(Set));
        // Plugin folders: --plugins, then the experiment's "plugins" list (or PEFT_PLUGINS, which overrides it).
        var catalog = MethodCatalog.Load([.. parse.GetValue(Plugins) ?? [], .. config.PluginFolders()]);
        return new ExperimentReader(catalog) { AcceptUninstalledMethods = forReport }.Read(config);
    }
}
