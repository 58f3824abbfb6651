using System.CommandLine;
using Peft.Imaging;
using Peft.Host.FeatureExtraction;
using Peft.Models;
using Peft.Terminal;
using static TorchSharp.torch;

namespace Peft.Cli.Commands;

/// <summary><c>peft encode</c>: image and text features of a CLIP checkpoint into a safetensors file.</summary>
public static class EncodeCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "CLIP checkpoint: OpenAI .pt, torch.save state dict, .safetensors, a Hugging Face folder, or a bundled tiny CLIP (tiny-clip, tiny-clip-vit)", Required = true };
        var images = new Option<string?>("--images") { Description = "Folder of images (searched recursively; rows sorted by relative path)" };
        var texts = new Option<string?>("--texts") { Description = "Text file, one text per line" };
        var output = new Option<string>("--out") { Description = "Output .safetensors file (image_features, text_features)", Required = true };
        var batch = new Option<int>("--batch-size") { Description = "Images or texts per forward pass", DefaultValueFactory = _ => 32 };
        var dtype = new Option<string>("--dtype") { Description = "Compute type: fp32 (exact) or bf16 (faster on CPUs with AVX512-BF16/AMX)", DefaultValueFactory = _ => "fp32" };
        dtype.AcceptOnlyFromAmong("fp32", "bf16");
        var threads = new Option<int?>("--threads") { Description = "libtorch threads (default: all cores)" };
        var resize = new Option<string>("--preprocess") { Description = "clip: short side + centre crop (openai/CLIP); coop: squash to a square (early CoOp)", DefaultValueFactory = _ => "clip" };
        resize.AcceptOnlyFromAmong("clip", "coop");
        var truncate = new Option<bool>("--truncate") { Description = "Cut texts longer than the context length instead of failing" };

        var command = new Command("encode", "Encode images and texts with a CLIP model into a safetensors file.")
        {
            model, images, texts, output, batch, dtype, threads, resize, truncate,
        };
        command.SetAction(parse =>
        {
            var options = new EncodeOptions
            {
                ModelPath = BundledModels.Resolve(parse.GetValue(model)!),
                ImagesDir = parse.GetValue(images),
                TextsFile = parse.GetValue(texts),
                OutPath = parse.GetValue(output)!,
                BatchSize = parse.GetValue(batch),
                ComputeType = parse.GetValue(dtype) == "bf16" ? ScalarType.BFloat16 : ScalarType.Float32,
                Threads = parse.GetValue(threads),
                ResizeMode = parse.GetValue(resize) == "coop" ? ClipResizeMode.Squash : ClipResizeMode.ResizeShortSideAndCenterCrop,
                TruncateTexts = parse.GetValue(truncate),
            };
            var bars = new Dictionary<string, ConsoleProgress>();
            try
            {
                var job = new EncodeJob(options)
                {
                    Progress = (stage, done, total) =>
                    {
                        if (!bars.TryGetValue(stage, out var bar))
                            bars[stage] = bar = new ConsoleProgress($"encode {stage}", total, stage);
                        bar.Report(done);
                    },
                };
                var result = job.Run();
                foreach (var bar in bars.Values) bar.Dispose();
                bars.Clear();
                Console.WriteLine($"wrote {result.OutPath}: image_features [{result.Images}, {result.EmbedDim}], " +
                                  $"text_features [{result.Texts}, {result.EmbedDim}] in {result.Elapsed.TotalSeconds:F1} s");
                return 0;
            }
            finally
            {
                foreach (var bar in bars.Values) bar.Dispose();
            }
        });
        return command;
    }
}
