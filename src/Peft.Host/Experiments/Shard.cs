using System.Globalization;

namespace Peft.Host.Experiments;

/// <summary>
/// Which share of the cells this invocation runs: shard <see cref="Index"/> (0-based) of <see cref="Count"/>.
/// From <c>--shard i/N</c>, else a Kubernetes Indexed Job (<c>JOB_COMPLETION_INDEX</c> with the count from
/// <c>--shard-count</c> or <c>PEFT_SHARD_COUNT</c>), else a Slurm array (<c>SLURM_ARRAY_TASK_ID</c> −
/// <c>SLURM_ARRAY_TASK_MIN</c> of <c>SLURM_ARRAY_TASK_COUNT</c>), else the whole grid.
/// </summary>
public sealed record Shard(int Index, int Count)
{
    public static readonly Shard All = new(0, 1);

    public bool IsAll => Count == 1;
    public override string ToString() => $"{Index}/{Count}";

    public static Shard Parse(string text, string source = "--shard")
    {
        var parts = text.Split('/');
        if (parts.Length != 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var i)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var n))
            throw new ArgumentException($"{source} '{text}': expected i/N with 0 ≤ i < N (e.g. 0/4)");
        return Create(i, n, source);
    }

    static Shard Create(int index, int count, string source)
    {
        if (count < 1) throw new ArgumentException($"{source}: the shard count must be ≥ 1, got {count}");
        if (index < 0 || index >= count) throw new ArgumentException($"{source}: shard index {index} is outside 0..{count - 1}");
        return new Shard(index, count);
    }

    /// <summary>The shard from the command line or, failing that, from the scheduler's environment.</summary>
    public static Shard Resolve(string? option, int? countOption, Func<string, string?>? env = null)
    {
        env ??= Environment.GetEnvironmentVariable;
        if (option is not null) return Parse(option);
        if (env("JOB_COMPLETION_INDEX") is { Length: > 0 } k8s)
        {
            var countText = countOption?.ToString(CultureInfo.InvariantCulture) ?? env("PEFT_SHARD_COUNT");
            if (countText is null)
                throw new ArgumentException($"JOB_COMPLETION_INDEX={k8s} is set (Kubernetes Indexed Job) but not the shard count: pass --shard-count N or set PEFT_SHARD_COUNT (the Job's completions)");
            return Create(Number(k8s, "JOB_COMPLETION_INDEX"), Number(countText, countOption is null ? "PEFT_SHARD_COUNT" : "--shard-count"), "JOB_COMPLETION_INDEX");
        }
        if (env("SLURM_ARRAY_TASK_ID") is { Length: > 0 } slurm)
        {
            var count = env("SLURM_ARRAY_TASK_COUNT") ?? throw new ArgumentException($"SLURM_ARRAY_TASK_ID={slurm} is set but not SLURM_ARRAY_TASK_COUNT");
            int min = env("SLURM_ARRAY_TASK_MIN") is { Length: > 0 } m ? Number(m, "SLURM_ARRAY_TASK_MIN") : 0;
            return Create(Number(slurm, "SLURM_ARRAY_TASK_ID") - min, countOption ?? Number(count, "SLURM_ARRAY_TASK_COUNT"), "SLURM_ARRAY_TASK_ID");
        }
        if (countOption is int c && c != 1)
            throw new ArgumentException($"--shard-count {c} without a shard index: pass --shard i/{c} or run under a Kubernetes Indexed Job / Slurm array");
        return All;
    }

    static int Number(string text, string source) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v
            : throw new ArgumentException($"{source}: '{text}' is not a whole number");
}
