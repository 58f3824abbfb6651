using Peft.Clip.Native;

namespace Peft.Tests.Native;

public class ElfVersionNeedPatcherTests
{
    // The unmodified TorchSharp 0.107.0 native library from the NuGet cache (restored by this very build).
    static string ShippedLibrary()
    {
        var root = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                   ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        return Path.Combine(root, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
    }

    [Fact]
    public void ElfHashMatchesKnownValues()
    {
        // Values as readelf -V prints them for libstdc++ requirements.
        Assert.Equal(0x08922974u, ElfVersionNeedPatcher.ElfHash("GLIBCXX_3.4"));
        Assert.Equal(0x0297f870u, ElfVersionNeedPatcher.ElfHash("GLIBCXX_3.4.20"));
    }

    [Fact]
    public void RewritesOnlyTheGcc13RequirementAndKeepsTheSize()
    {
        var bytes = File.ReadAllBytes(ShippedLibrary());
        var before = ElfVersionNeedPatcher.RequiredVersions(bytes, "libstdc++.so.6");
        Assert.Contains("GLIBCXX_3.4.32", before);
        Assert.Contains("GLIBCXX_3.4.30", before);
        int size = bytes.Length;

        Assert.True(ElfVersionNeedPatcher.Rewrite(bytes, "libstdc++.so.6", "GLIBCXX_3.4.32", "GLIBCXX_3.4.30"));

        var after = ElfVersionNeedPatcher.RequiredVersions(bytes, "libstdc++.so.6");
        Assert.DoesNotContain("GLIBCXX_3.4.32", after);
        Assert.Equal(before.Count, after.Count);
        Assert.Equal(size, bytes.Length);
        // A second pass finds nothing to do.
        Assert.False(ElfVersionNeedPatcher.Rewrite(bytes, "libstdc++.so.6", "GLIBCXX_3.4.32", "GLIBCXX_3.4.30"));
    }

    [Fact]
    public void RejectsFilesThatAreNotElf()
    {
        var e = Assert.Throws<InvalidDataException>(() => ElfVersionNeedPatcher.RequiredVersions(new byte[100], "x"));
        Assert.Contains("not an ELF", e.Message);
    }

    [Fact]
    public void TorchSharpLoadsAfterStartUp()
    {
        TorchNativeLoader.EnsureLoaded();
        Assert.StartsWith(OperatingSystem.IsLinux() ? "" : "not-linux", TorchNativeLoader.Status);
        Assert.DoesNotContain("failed", TorchNativeLoader.Status);
        using var x = TorchSharp.torch.ones(3, 3);
        Assert.Equal(27f, x.matmul(x).sum().item<float>());
    }
}
