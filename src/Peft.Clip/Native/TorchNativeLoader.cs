using System.Runtime.InteropServices;
using Peft.IO;

namespace Peft.Clip.Native;

/// <summary>
/// Makes TorchSharp's native library loadable before the first use of <c>torch</c>. On distributions whose
/// libstdc++ predates GCC 13 (Debian 12) the shipped <c>libLibTorchSharp.so</c> fails with
/// "version GLIBCXX_3.4.32 not found"; there the file in the output folder is retargeted once to
/// GLIBCXX_3.4.30 (see <see cref="ElfVersionNeedPatcher"/>). Where it loads as shipped, nothing is touched.
/// </summary>
public static class TorchNativeLoader
{
    const string Missing = "GLIBCXX_3.4.32", Present = "GLIBCXX_3.4.30", StdCxx = "libstdc++.so.6";
    static readonly object Gate = new();
    static bool _done;

    /// <summary>What the last call did, for diagnostics ("loaded", "patched", "not-linux", ...).</summary>
    public static string Status { get; private set; } = "not-run";

    public static void EnsureLoaded()
    {
        lock (Gate)
        {
            if (_done) return;
            _done = true;
            if (!OperatingSystem.IsLinux()) { Status = "not-linux"; return; }
            RequestReproducibleMkl();
            MallocTuning.Apply();
            var path = Locate();
            if (path is null) { Status = "not-found"; return; } // TorchSharp's own loader reports what is missing
            Status = PatchIfNeeded(path);
        }
    }

    [DllImport("libc", EntryPoint = "setenv")]
    static extern int SetEnv(string name, string value, int overwrite);

    /// <summary>
    /// MKL (libtorch's fp32/fp64 BLAS on x86) may pick different kernels depending on the memory alignment of the
    /// buffers, so the same computation can differ in the low bits from run to run — seen as a linear probe that was
    /// not bit-identical on a rerun. MKL_CBWR=AUTO (conditional numerical reproducibility) makes reruns exact for the
    /// same thread count. Set in the native environment before libtorch loads; a user's own MKL_CBWR wins.
    /// </summary>
    static void RequestReproducibleMkl() => SetEnv("MKL_CBWR", "AUTO", 0);

    /// <summary>Candidate places where the .NET host resolves the native library for this application.</summary>
    static string? Locate()
    {
        var dirs = new[]
        {
            Path.GetDirectoryName(typeof(TorchSharp.torch).Assembly.Location) ?? "",
            AppContext.BaseDirectory,
        };
        foreach (var dir in dirs.Distinct())
        {
            foreach (var rel in new[] { "runtimes/linux-x64/native/libLibTorchSharp.so", "libLibTorchSharp.so" })
            {
                var p = Path.Combine(dir, rel);
                if (File.Exists(p)) return p;
            }
        }
        return null;
    }

    /// <summary>Loads the library; if only the GLIBCXX_3.4.32 requirement stops it, rewrites it and loads again.</summary>
    public static string PatchIfNeeded(string path)
    {
        if (NativeLibrary.TryLoad(path, out _)) return "loaded";
        string error = DlError(path);
        if (!error.Contains(Missing))
            return $"load-failed: {error}"; // not ours to fix; TorchSharp's loader will report it
        var bytes = File.ReadAllBytes(path);
        if (!ElfVersionNeedPatcher.Rewrite(bytes, StdCxx, Missing, Present))
            return $"load-failed: {error}";
        // Write beside and rename: a concurrent process sees either the old or the new file, never half.
        try
        {
            AtomicFile.Replace(path, bytes);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw new InvalidOperationException(
                $"{path} needs {Missing}, which this system's libstdc++ lacks, and the file cannot be rewritten " +
                $"({e.Message}). Make the output folder writable, or run once as its owner.", e);
        }
        if (!NativeLibrary.TryLoad(path, out _))
            return $"load-failed-after-patch: {DlError(path)}";
        return "patched";
    }

    /// <summary>The loader's message (dlerror text) for a library that does not load.</summary>
    static string DlError(string path)
    {
        try { NativeLibrary.Load(path); return ""; }
        catch (DllNotFoundException e) { return e.Message; }
        catch (BadImageFormatException e) { return e.Message; }
    }
}
