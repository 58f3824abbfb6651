using System.Runtime.CompilerServices;

namespace Peft.Clip.Native;

static class NativeModuleInitializer
{
    /// <summary>Any program that touches Peft.Clip gets a loadable TorchSharp before its first torch call.</summary>
    [ModuleInitializer]
    internal static void Init() => TorchNativeLoader.EnsureLoaded();
}
