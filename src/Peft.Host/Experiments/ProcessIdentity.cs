using System.Diagnostics;

namespace Peft.Host.Experiments;

/// <summary>
/// Names a running process as <c>host:pid:start-ticks</c>, so a later invocation can tell whether the process that
/// left a parent run RUNNING is gone (killed with SIGKILL, machine rebooted) — the start time guards against a reused pid.
/// </summary>
public static class ProcessIdentity
{
    public static string Current { get; } = Of(Process.GetCurrentProcess());

    static string Of(Process p) => $"{Environment.MachineName}:{p.Id}:{StartStamp(p)}";

    /// <summary>
    /// When the process started, the same whichever process asks: on Linux the kernel's start time in clock ticks since
    /// boot (<c>/proc/&lt;pid&gt;/stat</c> field 22). Not <see cref="Process.StartTime"/>: .NET derives it from the boot
    /// time as each process computes it, which differs between processes by about a millisecond, so another process's
    /// identity never matched and every live run looked dead (peft plan said "interrupted" for a running cell).
    /// </summary>
    static string StartStamp(Process p)
    {
        if (OperatingSystem.IsLinux())
        {
            try
            {
                var stat = File.ReadAllText($"/proc/{p.Id}/stat");
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                return "k" + fields[19]; // field 22 of the line; fields[0] is field 3 (state)
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or IndexOutOfRangeException or ArgumentOutOfRangeException) { }
        }
        var start = p.StartTime.ToUniversalTime();
        return (start.Ticks - start.Ticks % TimeSpan.TicksPerSecond).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The identity of the process with id <paramref name="pid"/> (tests), or null when there is none.</summary>
    public static string? For(int pid)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            return Of(p);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException) { return null; }
    }

    /// <summary>True only when <paramref name="identity"/> names a process of this machine that no longer runs.</summary>
    public static bool IsGone(string identity)
    {
        var parts = identity.Split(':');
        if (parts.Length != 3 || parts[0] != Environment.MachineName || !int.TryParse(parts[1], out int pid)) return false;
        try
        {
            using var p = Process.GetProcessById(pid);
            return Of(p) != identity;
        }
        catch (ArgumentException) { return true; }          // no such process
        catch (InvalidOperationException) { return true; }  // exited meanwhile
    }
}
