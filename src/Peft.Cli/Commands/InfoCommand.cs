using System.CommandLine;
using Peft.Clip.Model;
using Peft.Clip.Native;
using System.Reflection;
using Peft.Host;
using Peft.Models;
using Peft.Host.Plugins;
using TorchSharp;
using Peft.IO;

namespace Peft.Cli.Commands;

/// <summary><c>peft info</c>: the native set-up the program runs with (useful in bug reports).</summary>
public static class InfoCommand
{
    public static Command Create()
    {
        var command = new Command("info", "Show the TorchSharp/libtorch set-up this program runs with.");
        command.SetAction(_ =>
        {
            var torchSharp = typeof(torch).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "?";
            Console.WriteLine($"TorchSharp: {torchSharp.Split('+')[0]}, libtorch: {torch.__version__} (CPU), .NET {Environment.Version}");
            Console.WriteLine($"TorchSharp native library: {TorchNativeLoader.Status}");
            Console.WriteLine($"libtorch threads: {torch.get_num_threads()} (interop {torch.get_num_interop_threads()})");
            Console.WriteLine($"threads: {ThreadBudget.Resolve(null)} for peft run/plan (of {Environment.ProcessorCount} CPUs available; --threads or {ThreadBudget.EnvironmentVariable})");
            Console.WriteLine($"CPU capability: {CpuIsa()}" +
                $"{Env("ATEN_CPU_CAPABILITY")}{Env("ONEDNN_MAX_CPU_ISA")}{Env("DNNL_MAX_CPU_ISA")}");
            Console.WriteLine($"CUDA available: {torch.cuda.is_available()}");
            Console.WriteLine($"processors: {Environment.ProcessorCount}");
            Console.WriteLine($"CPU caches: {CpuCacheInfo.Current}");
            // The layout a ResNet tower starts in; every new (layout, dtype, batch, size, threads) is still self-checked.
            var (layout, reason) = ConvolutionCheck.InitialLayout();
            Console.WriteLine($"ResNet convolution layout: {(layout == ConvolutionLayout.Nchw ? "NCHW" : "channels-last")} ({reason})" +
                (ConvolutionCheck.MicroBatchFor(resNet: true) is > 0 and var m ? $", eval batches split into {m}s" : ""));
            Console.WriteLine($"oneDNN: {(LibTorchContext.MkldnnEnabled switch { true => "on", false => "off", null => "unknown" })}, NNPACK: off");
            Console.WriteLine($"feature cache: {PeftHome.Resolve("cache")}");
            Console.WriteLine($"models: {ModelCache.DefaultRoot()}");
            Console.WriteLine($"plugins: {MethodCatalog.BuiltInFolder}" +
                (MethodCatalog.FoldersFromEnvironment() is { Count: > 0 } extra ? $", {MethodCatalog.EnvironmentVariable}: {string.Join(", ", extra)}" : ""));
            return 0;
        });
        return command;
    }

    /// <summary>The widest vector ISA this CPU offers (what libtorch's and oneDNN's kernels dispatch on).</summary>
    static string CpuIsa()
    {
        var isa = new List<string>();
        if (System.Runtime.Intrinsics.X86.Avx2.IsSupported) isa.Add("AVX2");
        if (System.Runtime.Intrinsics.X86.Fma.IsSupported) isa.Add("FMA");
        if (System.Runtime.Intrinsics.X86.Avx512F.IsSupported) isa.Add("AVX-512F");
        if (System.Runtime.Intrinsics.X86.Avx512BW.IsSupported) isa.Add("AVX-512BW");
        if (System.Runtime.Intrinsics.X86.Avx512Vbmi.IsSupported) isa.Add("AVX-512VBMI");
        if (System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported) isa.Add("NEON");
        string level = System.Runtime.Intrinsics.X86.Avx512F.IsSupported ? "avx512" : System.Runtime.Intrinsics.X86.Avx2.IsSupported ? "avx2" : "default";
        return $"{level} ({(isa.Count == 0 ? "no vector extensions detected" : string.Join(", ", isa))})";
    }

    static string Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? $"; {name}={v}" : "";
}
