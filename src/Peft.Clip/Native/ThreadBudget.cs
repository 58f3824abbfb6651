using static TorchSharp.torch;

namespace Peft.Clip.Native;

/// <summary>
/// How many threads this process computes with: libtorch's intra-op pool and the image-decoding workers. Default:
/// the CPUs this process may use (<see cref="Environment.ProcessorCount"/>: affinity and cgroup quota) but no more than
/// libtorch's own default (the physical cores), so a container limited to 2 CPUs on a 64-core host runs 2 threads
/// instead of oversubscribing. <c>--threads</c> or <see cref="EnvironmentVariable"/> override it.
/// </summary>
public static class ThreadBudget
{
    public const string EnvironmentVariable = "PEFT_THREADS";

    static readonly Lazy<int> LibTorchDefault = new(() => get_num_threads());
    static int? _current;

    /// <summary>The machine's default (see the class summary).</summary>
    public static int Default => Math.Max(1, Math.Min(Environment.ProcessorCount, LibTorchDefault.Value));

    /// <summary>The budget in force: the last <see cref="Apply"/>, else <see cref="Default"/>.</summary>
    public static int Current => _current ?? Default;

    /// <summary>
    /// The budget asked for: <paramref name="requested"/> (the command line), else <see cref="EnvironmentVariable"/>,
    /// else <see cref="Default"/>; an invalid value is an error naming where it came from.
    /// </summary>
    public static int Resolve(int? requested)
    {
        if (requested is int n)
            return n >= 1 ? n : throw new ArgumentException($"--threads must be at least 1 (got {n})");
        var text = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.IsNullOrWhiteSpace(text)) return Default;
        return int.TryParse(text.Trim(), out var fromEnv) && fromEnv >= 1
            ? fromEnv
            : throw new ArgumentException($"{EnvironmentVariable}='{text}' must be a whole number of threads, at least 1");
    }

    /// <summary>Sets libtorch's intra-op threads (process-wide) and the decoding workers' budget.</summary>
    public static void Apply(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        _ = LibTorchDefault.Value; // libtorch's default, read before it is changed
        set_num_threads(threads);
        _current = threads;
    }
}
