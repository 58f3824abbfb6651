using System.Reflection;
using Peft.Clip.Native;
using Peft.Host;
using Peft.IO;

namespace Peft.Testing;

/// <summary>Set-up shared by the test helpers.</summary>
public static class PeftTesting
{
    /// <summary>
    /// Makes TorchSharp's native library loadable before the first tensor (on Debian 12 its copy in the test output is
    /// retargeted from GLIBCXX_3.4.32 to 3.4.30; elsewhere nothing happens) and asks MKL for reproducible results.
    /// Call it from a module initializer of the test assembly, before any TorchSharp call (the template does).
    /// </summary>
    public static void EnsureNativeLibraries() => TorchNativeLoader.EnsureLoaded();

    /// <summary>
    /// The tiny CLIP of the quickstart (17 MB, embedded in this package), written once to
    /// <c>$PEFT_HOME/testing/tiny-clip-&lt;version&gt;.safetensors</c> (default <c>~/.cache/peft/…</c>); its path.
    /// </summary>
    public static string TinyClipPath()
    {
        EnsureNativeLibraries();
        var assembly = typeof(PeftTesting).Assembly;
        var version = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0";
        var path = Path.Combine(PeftHome.Resolve("testing"), $"tiny-clip-{version}.safetensors");
        using var resource = assembly.GetManifestResourceStream("tiny-clip.safetensors")
            ?? throw new InvalidOperationException("Peft.Testing was built without its tiny CLIP resource");
        if (File.Exists(path) && new FileInfo(path).Length == resource.Length) return path;
        AtomicFile.Replace(path, resource.CopyTo); // concurrent test runs write the same bytes
        return path;
    }
}
