using Peft.Clip.Loading;
using Peft.Clip.Model;
using static TorchSharp.torch;
using Peft.Tensors;

namespace Peft.Tests.Host;

/// <summary>A small random CLIP with the real vocabulary size, saved as safetensors (for jobs that tokenize real text).</summary>
static class RandomClip
{
    public static ClipConfig SmallViT => new()
    {
        EmbedDim = 32, ImageResolution = 32, VisionLayers = [1], VisionWidth = 64, VisionPatchSize = 16,
        ContextLength = 77, VocabSize = 49408, TextWidth = 64, TextLayers = 1,
    };

    public static string Save(string path, ClipConfig config, long seed)
    {
        var g = new Generator((ulong)seed);
        using var model = new ClipModel(config);
        using (no_grad())
            foreach (var (_, p) in model.named_parameters())
                p.copy_(randn(p.shape, generator: g) * 0.1);
        SafeTensorsFile.Write(path, model.state_dict());
        return path;
    }
}
