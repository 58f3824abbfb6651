using System.Diagnostics;
using System.Globalization;

namespace Peft.Host.Experiments;

/// <summary>
/// Peak resident memory of one cell. On Linux, writing "5" to <c>/proc/self/clear_refs</c> resets the process's peak
/// RSS (VmHWM) to the current RSS, so VmHWM read after the cell is that cell's peak (what it had loaded plus what it
/// added). Elsewhere (or if the kernel refuses) it falls back to <see cref="Process.PeakWorkingSet64"/>, which cannot
/// be reset: the process's peak so far, an upper bound for the cell.
/// </summary>
public static class PeakMemory
{
    /// <summary>Starts a cell's measurement; true when the peak could be reset (per-cell figure).</summary>
    public static bool Reset()
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Resident memory now (VmRSS) in MiB; NaN where /proc is not available.</summary>
    public static double ResidentMb() => StatusKb("VmRSS:") is long kb ? kb / 1024.0 : double.NaN;

    /// <summary>The 1-minute load average (/proc/loadavg); null where it cannot be read.</summary>
    public static double? LoadAverage()
    {
        if (!OperatingSystem.IsLinux()) return null;
        try
        {
            var first = File.ReadAllText("/proc/loadavg").Split(' ')[0];
            return double.TryParse(first, NumberStyles.Float, CultureInfo.InvariantCulture, out var load) ? load : null;
        }
        catch (IOException) { return null; }
    }

    static long? StatusKb(string field)
    {
        if (!OperatingSystem.IsLinux()) return null;
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith(field, StringComparison.Ordinal)
                    && long.TryParse(line[field.Length..].Trim().Split(' ')[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var kb))
                    return kb;
        }
        catch (IOException) { }
        return null;
    }

    /// <summary>Peak resident memory in MiB since the last <see cref="Reset"/> (or the process start).</summary>
    public static double PeakMb()
    {
        if (StatusKb("VmHWM:") is long kb) return kb / 1024.0;
        using var self = Process.GetCurrentProcess();
        return self.PeakWorkingSet64 / (1024.0 * 1024.0);
    }
}
