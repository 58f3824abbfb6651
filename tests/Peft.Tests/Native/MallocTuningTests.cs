using System.Runtime.InteropServices;
using Peft.Clip.Native;

namespace Peft.Tests.Native;

public class MallocTuningTests
{
    static long ResidentBytes() => long.Parse(File.ReadAllText("/proc/self/statm").Split(' ')[1]) * Environment.SystemPageSize;

    [Fact]
    public void FreedLargeBlocksStayInTheProcessForReuse()
    {
        TorchNativeLoader.EnsureLoaded();
        if (Environment.GetEnvironmentVariable("GLIBC_TUNABLES")?.Contains("glibc.malloc.") == true)
        {
            Assert.Equal("user tunables", MallocTuning.Status);
            return;
        }
        Assert.Equal("tuned", MallocTuning.Status);   // Debian and the CI machines run glibc

        // A 24 MiB block (under the 32 MiB mmap threshold) comes from the heap and its pages stay resident after free:
        // the next tensor of that size reuses them without page faults. Untuned glibc maps such a block afresh (its
        // threshold starts at 128 KiB) and unmaps it on free.
        const int size = 24 << 20;
        var block = Marshal.AllocHGlobal(size);   // malloc on Linux
        for (int i = 0; i < size; i += Environment.SystemPageSize) Marshal.WriteByte(block, i, 1);
        long touched = ResidentBytes();
        Marshal.FreeHGlobal(block);
        long freed = ResidentBytes();
        Assert.True(touched - freed < 4 << 20, $"resident memory fell by {(touched - freed) >> 20} MiB when the block was freed");
    }
}
