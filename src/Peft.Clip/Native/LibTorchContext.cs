using System.Runtime.InteropServices;

namespace Peft.Clip.Native;

/// <summary>
/// Switches of libtorch's global <c>at::Context</c> that TorchSharp does not expose (PyTorch's
/// <c>torch.backends.nnpack.enabled</c> / <c>torch.backends.mkldnn.enabled</c>), called through their exported
/// Itanium-mangled symbols in <c>libtorch_cpu</c>. Linux x64 only; elsewhere the calls report false and change nothing.
/// </summary>
public static class LibTorchContext
{
    const string Lib = "libtorch_cpu";

    [DllImport(Lib, EntryPoint = "_ZN2at13globalContextEv")]
    static extern IntPtr GlobalContext();

    [DllImport(Lib, EntryPoint = "_ZN2at7Context20setUserEnabledNNPACKEb")]
    static extern void SetUserEnabledNNPACK(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    [DllImport(Lib, EntryPoint = "_ZN2at7Context20setUserEnabledMkldnnEb")]
    static extern void SetUserEnabledMkldnn(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    [DllImport(Lib, EntryPoint = "_ZNK2at7Context17userEnabledMkldnnEv")]
    [return: MarshalAs(UnmanagedType.U1)]
    static extern bool UserEnabledMkldnn(IntPtr context);

    /// <summary>
    /// Turns NNPACK off. libtorch asks NNPACK first for some convolutions (bf16 among them) and, on CPUs it does not
    /// support, prints "Could not initialize NNPACK! Reason: Unsupported hardware" for every call; oneDNN computes
    /// those convolutions anyway, so nothing is lost.
    /// </summary>
    public static bool DisableNnpack() => Try(() => SetUserEnabledNNPACK(GlobalContext(), false));

    /// <summary>Whether libtorch may use oneDNN (mkldnn) kernels; null when the switch is not reachable.</summary>
    public static bool? MkldnnEnabled
    {
        get
        {
            bool value = true;
            return Try(() => value = UserEnabledMkldnn(GlobalContext())) ? value : null;
        }
    }

    /// <summary>Turns oneDNN kernels off or on for the whole process; false when the switch is not reachable.</summary>
    public static bool SetMkldnn(bool enabled) => Try(() => SetUserEnabledMkldnn(GlobalContext(), enabled));

    static bool Try(Action call)
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64) return false;
        TorchNativeLoader.EnsureLoaded();
        _ = TorchSharp.torch.get_num_threads(); // makes sure TorchSharp has loaded libtorch_cpu into the process
        try
        {
            call();
            return true;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }
}
