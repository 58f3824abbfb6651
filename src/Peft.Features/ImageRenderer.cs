using System.Collections.Concurrent;
using Peft.Imaging;
using Peft.Clip.Inference;
using Peft.Clip.Model;
using static TorchSharp.torch;

namespace Peft.Features;

/// <summary>
/// Pixels and uncached features of images under a renderer, for encoder-level methods: they train on image batches,
/// and the features of their adapted towers change with every fit, so nothing here is written to the feature cache.
/// Views are the same as the cache's (same renderer keys, image hashes from <paramref name="cache"/>). Decoded images
/// are kept in memory up to <paramref name="decodedBudgetBytes"/> (a few-shot training set is read once per epoch).
/// </summary>
public sealed class ImageRenderer(FeatureCache cache, ClipModel model, int batchSize = 32, long decodedBudgetBytes = 512L << 20)
{
    readonly ConcurrentDictionary<string, DecodedImage> _decoded = new(StringComparer.Ordinal);
    long _decodedBytes;

    /// <summary>Preprocessed pixels [N, 3, S, S] (float32) of view <paramref name="view"/> of each image, in order.</summary>
    public Tensor Pixels(IReadOnlyList<string> paths, IViewRenderer renderer, int view)
    {
        if (renderer.Size != model.ImageResolution)
            throw new ArgumentException($"renderer produces {renderer.Size}px views but the model takes {model.ImageResolution}px");
        int s = renderer.Size, size = 3 * s * s;
        var pixels = new float[paths.Count * size];
        Parallel.For(0, paths.Count, i =>
            renderer.Render(Decode(paths[i]), cache.ImageHash(paths[i]), view).AsSpan().CopyTo(pixels.AsSpan(i * size, size)));
        return tensor(pixels, [paths.Count, 3, s, s]);
    }

    /// <summary>
    /// Features [N, EmbedDim] of view <paramref name="view"/> of each image through the model as it is now (with whatever
    /// adaptation is applied to its towers), batched and pipelined like the cache's encoder; not cached.
    /// </summary>
    public Tensor Encode(IReadOnlyList<string> paths, IViewRenderer renderer, int view = 0, Action<int, int>? progress = null,
        CancellationToken cancel = default)
    {
        if (renderer.Size != model.ImageResolution)
            throw new ArgumentException($"renderer produces {renderer.Size}px views but the model takes {model.ImageResolution}px");
        int d = model.EmbedDim;
        var result = new float[paths.Count * d];
        var items = Enumerable.Range(0, paths.Count).ToList();
        new PipelinedImageEncoder(model, batchSize) { Progress = progress }.Run(items,
            i => renderer.Render(Decode(paths[i]), cache.ImageHash(paths[i]), view),
            (batch, features) => features.data<float>().ToArray().AsSpan().CopyTo(result.AsSpan(batch[0] * d, batch.Count * d)),
            cancel);
        return tensor(result, [paths.Count, d]);
    }

    DecodedImage Decode(string path)
    {
        if (_decoded.TryGetValue(path, out var image)) return image;
        image = ImageDecoder.Decode(path);
        long bytes = (long)image.Rgb.Width * image.Rgb.Height * 3;
        if (Interlocked.Add(ref _decodedBytes, bytes) <= decodedBudgetBytes) _decoded.TryAdd(path, image);
        else Interlocked.Add(ref _decodedBytes, -bytes);
        return image;
    }
}
