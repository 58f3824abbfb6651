using System.Runtime.CompilerServices;

// TorchSharp's random generator and thread settings are process-wide: tests run one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace MyMethod.Tests;

static class TestAssemblyInit
{
    /// <summary>TorchSharp's native library made loadable (Debian 12) before the first tensor.</summary>
    [ModuleInitializer]
    internal static void Init() => Peft.Testing.PeftTesting.EnsureNativeLibraries();
}
