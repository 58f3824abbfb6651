using System.Runtime.CompilerServices;

namespace Peft.Clip.Native;

static class NativeModuleInitializer
{
    /// <summary>Any program that touches Peft.Clip gets a loadable TorchSharp before its first torch call.</summary>
#pragma warning disable CA2255 // deliberate: the fix must run before any code of a consumer touches TorchSharp
    [ModuleInitializer]
    internal static void Init() => TorchNativeLoader.EnsureLoaded();
#pragma warning restore CA2255
}
