using System.Runtime.InteropServices;

namespace Peft.Clip.Native;

/// <summary>
/// Keeps memory that libtorch frees in the process for reuse instead of handing it back to the kernel at once.
/// libtorch allocates every intermediate tensor anew; glibc serves blocks above its mmap threshold (dynamic, 128 KiB
/// until a large block is freed) with fresh mappings and trims the heap's free top beyond its trim threshold, so large
/// temporaries page-fault on first touch every time. On the development VM a page fault costs ~12 µs: an element-wise op
/// over a 16 MB tensor took 5–48 ms instead of 0.7–0.9 ms, and Tip-Adapter-F's epoch 0.53 s instead of 0.30 s (measured
/// with GLIBC_TUNABLES before this was applied at start-up; README, Speed). The mmap threshold goes to glibc's 64-bit
/// maximum (32 MiB) and the trim threshold to 1 GiB: a process keeps up to 1 GiB of freed heap above its live memory.
/// A user's own <c>GLIBC_TUNABLES</c> malloc settings win.
/// </summary>
public static class MallocTuning
{
    const int TrimThreshold = -1, MmapThreshold = -3;   // malloc.h M_TRIM_THRESHOLD, M_MMAP_THRESHOLD
    public const int MmapThresholdBytes = 32 << 20, TrimThresholdBytes = 1 << 30;

    /// <summary>"tuned", "user tunables", "refused" (mallopt returned 0), "not glibc" or "not linux".</summary>
    public static string Status { get; private set; } = "not applied";

    [DllImport("libc", EntryPoint = "mallopt")]
    static extern int MallOpt(int parameter, int value);

    /// <summary>Whether this process runs on glibc. musl has a mallopt too (it does nothing and returns 0), so glibc is
    /// recognised by its own export, gnu_get_libc_version.</summary>
    public static bool IsGlibc =>
        OperatingSystem.IsLinux() && NativeLibrary.TryLoad("libc.so.6", out var libc) && NativeLibrary.TryGetExport(libc, "gnu_get_libc_version", out _);

    internal static void Apply()
    {
        if (!OperatingSystem.IsLinux()) { Status = "not linux"; return; }
        if (!IsGlibc) { Status = "not glibc"; return; }
        if (Environment.GetEnvironmentVariable("GLIBC_TUNABLES")?.Contains("glibc.malloc.") == true) { Status = "user tunables"; return; }
        bool mmap = MallOpt(MmapThreshold, MmapThresholdBytes) == 1, trim = MallOpt(TrimThreshold, TrimThresholdBytes) == 1;
        Status = mmap && trim ? "tuned" : "refused";
    }
}
