using System.Diagnostics;

namespace Peft.Host.Experiments;

/// <summary>
/// Names a running process as <c>host:pid:start-ticks</c>, so a later invocation can tell whether the process that
/// left a parent run RUNNING is gone (killed with SIGKILL, machine rebooted) — the start time guards against a reused pid.
/// </summary>
public static class ProcessIdentity
{
    public static string Current { get; } = Of(Process.GetCurrentProcess());

    static string Of(Process p) => $"{Environment.MachineName}:{p.Id}:{p.StartTime.ToUniversalTime().Ticks}";

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
