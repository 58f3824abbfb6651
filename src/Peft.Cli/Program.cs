using System.CommandLine;
using Peft.Clip.Native;
using TorchSharp;

TorchNativeLoader.EnsureLoaded();
var root = new RootCommand("Peft.Framework: compare parameter-efficient adaptation methods on a frozen CLIP.");
var info = new Command("info", "Show the TorchSharp/libtorch set-up this program runs with.");
info.SetAction(_ =>
{
    Console.WriteLine($"native library: {TorchNativeLoader.Status}");
    Console.WriteLine($"threads: {torch.get_num_threads()}");
    using var x = torch.ones(2, 2);
    Console.WriteLine($"sum: {x.matmul(x).sum().item<float>()}");
    return 0;
});
root.Subcommands.Add(info);
return root.Parse(args).Invoke();
