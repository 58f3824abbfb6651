using System.CommandLine;
using Peft.Clip.Model;
using Peft.Clip.Native;
using TorchSharp;

namespace Peft.Cli.Commands;

/// <summary><c>peft info</c>: the native set-up the program runs with (useful in bug reports).</summary>
public static class InfoCommand
{
    public static Command Create()
    {
        var command = new Command("info", "Show the TorchSharp/libtorch set-up this program runs with.");
        command.SetAction(_ =>
        {
            Console.WriteLine($"TorchSharp native library: {TorchNativeLoader.Status}");
            Console.WriteLine($"libtorch threads: {torch.get_num_threads()} (interop {torch.get_num_interop_threads()})");
            Console.WriteLine($"CUDA available: {torch.cuda.is_available()}");
            Console.WriteLine($"processors: {Environment.ProcessorCount}");
            Console.WriteLine($"CPU caches: {CpuCacheInfo.Current}");
            // The layout a ResNet tower starts in; every new (layout, dtype, batch, size, threads) is still self-checked.
            var (layout, reason) = ConvolutionCheck.InitialLayout();
            Console.WriteLine($"ResNet convolution layout: {(layout == ConvolutionLayout.Nchw ? "NCHW" : "channels-last")} ({reason})" +
                (ConvolutionCheck.MicroBatchFor(resNet: true) is > 0 and var m ? $", eval batches split into {m}s" : ""));
            Console.WriteLine($"oneDNN: {(LibTorchContext.MkldnnEnabled switch { true => "on", false => "off", null => "unknown" })}, NNPACK: off");
            return 0;
        });
        return command;
    }
}
