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

    /// <summary>Peak resident memory in MiB since the last <see cref="Reset"/> (or the process start).</summary>
    public static double PeakMb()
    {
        if (OperatingSystem.IsLinux())
        {
            try
            {
                foreach (var line in File.ReadLines("/proc/self/status"))
                    if (line.StartsWith("VmHWM:", StringComparison.Ordinal)
                        && long.TryParse(line[6..].Trim().Split(' ')[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var kb))
                        return kb / 1024.0;
            }
            catch (IOException) { } // fall through to the portable figure
        }
        using var self = Process.GetCurrentProcess();
        return self.PeakWorkingSet64 / (1024.0 * 1024.0);
    }
}
