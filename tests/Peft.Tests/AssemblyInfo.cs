using System.Runtime.CompilerServices;

// TorchSharp's RNG, thread count and default dtype are process-wide: tests run serially (xunit.runner.json too).
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Peft.Tests;

static class TestAssemblyInit
{
    [ModuleInitializer]
    internal static void Init() => Peft.Clip.Native.TorchNativeLoader.EnsureLoaded();
}
