using System.CommandLine;
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
            return 0;
        });
        return command;
    }
}
