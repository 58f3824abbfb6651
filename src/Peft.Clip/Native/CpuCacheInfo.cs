using System.Runtime.Intrinsics.X86;

namespace Peft.Clip.Native;

/// <summary>
/// The data-cache sizes an x86 CPU reports through CPUID, read as libtorch's oneDNN reads them (its Xbyak CPU
/// detection: leaf 0x8000001D on AMD, leaf 4 on Intel). Some VMs and containers (seen: 2-core AMD EPYC with
/// AVX512-BF16, Debian 12) return zeros there; oneDNN 3.7's channels-last 1x1 convolution kernel
/// (<c>brgconv_1x1</c>) then sizes its blocks from nonsense and either computes wrong values or dies with SIGFPE
/// in <c>brg_blocking_t::est_eff_1x1</c>. <see cref="Reported"/> is false on such machines, and the ResNet tower
/// avoids that kernel (<see cref="Peft.Clip.Model.ConvolutionCheck"/>).
/// </summary>
public sealed record CpuCacheInfo(string Vendor, bool Reported, long L1DataBytes, long L2Bytes, string Source)
{
    /// <summary>Set to 1 to behave as on a CPU that reports no cache sizes (tests, or to force the safe path).</summary>
    public const string SimulateVariable = "PEFT_SIMULATE_NO_CPU_CACHE_INFO";

    static readonly Lazy<CpuCacheInfo> Detected = new(Detect);

    /// <summary>This machine's caches (read once; <see cref="SimulateVariable"/> is read at every call).</summary>
    public static CpuCacheInfo Current =>
        Environment.GetEnvironmentVariable(SimulateVariable) == "1"
            ? Detected.Value with { Reported = false, L1DataBytes = 0, L2Bytes = 0, Source = $"simulated by {SimulateVariable}=1" }
            : Detected.Value;

    /// <summary>One line for <c>peft info</c> and log messages.</summary>
    public override string ToString() => Reported
        ? $"{Vendor}: L1d {L1DataBytes / 1024} KiB, L2 {L2Bytes / 1024} KiB ({Source})"
        : $"{Vendor}: no cache sizes reported ({Source})";

    static CpuCacheInfo Detect()
    {
        if (!X86Base.IsSupported) return new("not x86", true, 0, 0, "not x86: oneDNN's x64 kernels are not used");
        var (_, b, c, d) = X86Base.CpuId(0, 0);
        var vendor = string.Concat(new[] { b, d, c }.Select(r => System.Text.Encoding.ASCII.GetString(BitConverter.GetBytes(r))));
        uint leaf = vendor switch { "AuthenticAMD" or "HygonGenuine" => 0x8000001D, "GenuineIntel" => 4, _ => 0 };
        if (leaf == 0) return new(vendor, true, 0, 0, "vendor without a deterministic cache leaf: oneDNN uses its defaults");
        uint max = (uint)X86Base.CpuId(unchecked((int)(leaf & 0x80000000)), 0).Eax;
        if (max < leaf)
            return new(vendor, true, 0, 0, $"CPUID leaf 0x{leaf:X} not offered: oneDNN uses its defaults");

        long l1 = 0, l2 = 0;
        for (int sub = 0; sub < 8; sub++)
        {
            var (ea, eb, ec, _) = X86Base.CpuId(unchecked((int)leaf), sub);
            int type = ea & 0x1F, level = (ea >> 5) & 0x7;
            if (type == 0) break; // no more caches
            if (type == 2) continue; // instruction cache
            long ways = ((uint)eb >> 22) + 1, partitions = (((uint)eb >> 12) & 0x3FF) + 1, line = ((uint)eb & 0xFFF) + 1, sets = (uint)ec + 1L;
            long size = ways * partitions * line * ((ea >> 9 & 1) == 1 ? 1 : sets);
            if (level == 1) l1 = size;
            else if (level == 2) l2 = size;
        }
        // Real L1 data caches are 16 KiB or more; zeros (or a 1-byte "cache") are what broken VMs report.
        bool reported = l1 >= 1024 && l2 >= 1024;
        return new(vendor, reported, l1, l2, $"CPUID leaf 0x{leaf:X}");
    }
}
