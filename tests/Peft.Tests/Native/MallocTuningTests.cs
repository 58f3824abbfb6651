using System.Runtime.InteropServices;
using Peft.Clip.Native;

namespace Peft.Tests.Native;

public class MallocTuningTests
{
    /// <summary>glibc ≥ 2.33 mallinfo2: hblkhd = bytes in blocks mapped by mmap on their own.</summary>
    [StructLayout(LayoutKind.Sequential)]
    struct MallInfo2
    {
        public nuint Arena, OrdBlks, SmBlks, HBlks, HBlkHd, UsmBlks, FsmBlks, UordBlks, FordBlks, KeepCost;
    }

    [DllImport("libc", EntryPoint = "mallinfo2")]
    static extern MallInfo2 MallInfo();

    [Fact]
    public void LargeBlocksComeFromTheHeapNotFromTheirOwnMapping()
    {
        TorchNativeLoader.EnsureLoaded();
        if (!MallocTuning.IsGlibc)
        {
            // musl and other C libraries: nothing is tuned, and the status says why (mallinfo2 is glibc's).
            Assert.Equal(OperatingSystem.IsLinux() ? "not glibc" : "not linux", MallocTuning.Status);
            return;
        }
        if (Environment.GetEnvironmentVariable("GLIBC_TUNABLES")?.Contains("glibc.malloc.") == true)
        {
            Assert.Equal("user tunables", MallocTuning.Status);
            return;
        }
        Assert.Equal("tuned", MallocTuning.Status);

        // A 24 MiB block is under the 32 MiB mmap threshold: glibc serves it from an arena, whose freed memory is reused
        // by the next tensor of that size without page faults, instead of mapping it on its own (and unmapping it on
        // free), as untuned glibc does while its dynamic threshold is below the block's size.
        const int size = 24 << 20;
        var before = MallInfo().HBlkHd;
        var block = Marshal.AllocHGlobal(size);   // malloc on Linux
        try
        {
            Assert.True(MallInfo().HBlkHd - before < (nuint)size, "the block was mapped on its own");
        }
        finally
        {
            Marshal.FreeHGlobal(block);
        }
    }
}
