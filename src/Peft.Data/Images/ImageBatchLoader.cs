using System.Runtime.ExceptionServices;
using Peft.Imaging;

namespace Peft.Data.Images;

/// <summary>
/// Decodes many image files in parallel with <see cref="ImageDecoder"/>. By default the first unreadable file
/// (in input order, so the error does not depend on thread timing) fails the load with an exception naming it;
/// with <see cref="DecodePolicy.SkipUnreadable"/> every missing or undecodable file is listed with its reason instead.
/// Only <see cref="ImageDecodeException"/> is skipped: other failures (out of memory, bugs) always propagate.
/// </summary>
public static class ImageBatchLoader
{
    public static ImageBatch Load(IReadOnlyList<string> paths, DecodePolicy policy = DecodePolicy.Fail, int maxDegreeOfParallelism = -1)
    {
        ArgumentNullException.ThrowIfNull(paths);
        if (!Enum.IsDefined(policy)) throw new ArgumentOutOfRangeException(nameof(policy), policy, "Unknown decode policy.");
        int n = paths.Count;
        var images = new DecodedImage?[n];
        var failures = new ImageDecodeException?[n];
        try
        {
            Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism }, (i, loop) =>
            {
                var path = paths[i] ?? throw new ArgumentException($"Path {i} is null.", nameof(paths));
                try
                {
                    images[i] = ImageDecoder.Decode(path);
                }
                catch (ImageDecodeException e)
                {
                    failures[i] = e;
                    // Break still runs every lower index, so the first failure in input order is found.
                    if (policy == DecodePolicy.Fail) loop.Break();
                }
            });
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
        }

        var decoded = new List<DecodedImage>(n);
        var indices = new List<int>(n);
        var skipped = new List<SkippedImage>();
        for (int i = 0; i < n; i++)
        {
            if (failures[i] is { } failure)
            {
                if (policy == DecodePolicy.Fail) ExceptionDispatchInfo.Capture(failure).Throw();
                skipped.Add(new SkippedImage(paths[i], i, Reason(failure)));
                continue;
            }
            decoded.Add(images[i]!);
            indices.Add(i);
        }
        return new ImageBatch(decoded, indices, skipped);
    }

    /// <summary>The decoder's reason without the "Cannot decode image 'path': " prefix (the path is listed separately).</summary>
    static string Reason(ImageDecodeException e)
    {
        string prefix = $"Cannot decode image '{e.ImageName}': ";
        return e.Message.StartsWith(prefix, StringComparison.Ordinal) ? e.Message[prefix.Length..] : e.Message;
    }
}
