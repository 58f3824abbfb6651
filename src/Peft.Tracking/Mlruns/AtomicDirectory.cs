using System.Runtime.InteropServices;

namespace Peft.Tracking.Mlruns;

/// <summary>
/// mkdir(2) that fails when the folder exists: the atomic "claim" that lets exactly one of several processes create
/// an experiment folder (Directory.CreateDirectory succeeds silently on an existing folder, so it cannot decide).
/// </summary>
internal static class AtomicDirectory
{
    private const int EEXIST = 17;

    [DllImport("libc", EntryPoint = "mkdir", SetLastError = true)]
    private static extern int Mkdir([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint mode);

    /// <summary>True when this call created the folder, false when it already existed.</summary>
    public static bool TryCreate(string path)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            // No mkdir(2) to call: the best available, not atomic between processes.
            if (Directory.Exists(path)) return false;
            Directory.CreateDirectory(path);
            return true;
        }
        if (Mkdir(path, Convert.ToUInt32("755", 8)) == 0) return true;
        int errno = Marshal.GetLastPInvokeError();
        if (errno == EEXIST) return false;
        throw new IOException($"cannot create folder {path}: {Marshal.GetPInvokeErrorMessage(errno)}");
    }
}
