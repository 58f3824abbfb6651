using TorchSharp;
using static TorchSharp.torch;

namespace Peft.Imaging;

/// <summary>
/// CLIP image preprocessing matching openai/CLIP's <c>_transform(n_px)</c> on PIL + torchvision 0.14:
/// resize (PIL bicubic, mode-aware as PIL's resize is), center crop, RGB, ToTensor (/255), Normalize.
/// The uint8 image before ToTensor is bit-identical to torchvision's for identical decoded pixels, and so is
/// the float32 tensor (same single-precision operations in the same order). Immutable and thread-safe.
/// </summary>
public sealed class ClipPreprocessor
{
    /// <summary>CLIP's per-channel mean (RGB), as in openai/CLIP.</summary>
    public static IReadOnlyList<float> ClipMean { get; } = [0.48145466f, 0.4578275f, 0.40821073f];

    /// <summary>CLIP's per-channel standard deviation (RGB).</summary>
    public static IReadOnlyList<float> ClipStd { get; } = [0.26862954f, 0.26130258f, 0.27577711f];

    readonly float[] _mean, _std;

    /// <summary>Output side length (224 for most CLIP models, 336 for ViT-L/14@336px).</summary>
    public int Size { get; }

    public ClipResizeMode ResizeMode { get; }

    public ClipPreprocessor(int size = 224, ClipResizeMode resizeMode = ClipResizeMode.ResizeShortSideAndCenterCrop,
        IReadOnlyList<float>? mean = null, IReadOnlyList<float>? std = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        _mean = (mean ?? ClipMean).ToArray();
        _std = (std ?? ClipStd).ToArray();
        if (_mean.Length != 3 || _std.Length != 3) throw new ArgumentException("mean and std need three values (R, G, B).");
        Size = size;
        ResizeMode = resizeMode;
    }

    /// <summary>The size x size RGB image right before ToTensor.</summary>
    public RgbImage PrepareRgb(DecodedImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (ResizeMode == ClipResizeMode.Squash)
            return PilResampler.Resize(image.Rgb, Size, Size, ResampleFilter.Bicubic);
        var (w, h) = TorchvisionGeometry.ResizeShortSide(image.Width, image.Height, Size);
        var resized = ResizeAsPil(image, w, h, ResampleFilter.Bicubic);
        return TorchvisionGeometry.CenterCrop(resized, Size, Size);
    }

    /// <summary>
    /// <c>image.resize((width, height), filter).convert("RGB")</c> where <c>image</c> is in its original PIL mode:
    /// P and 1 are resized with NEAREST; RGBA and LA premultiplied by alpha, resized, then unpremultiplied
    /// (Pillow's integer rounding); I (16-bit gray) in double precision and clipped to 0..255 afterwards.
    /// CMYK is the one approximation: PIL resizes the CMYK samples, which the decoder does not have, so the RGB
    /// is resized instead (the augmentation tests measure the difference on a CMYK fixture).
    /// </summary>
    public static RgbImage ResizeAsPil(DecodedImage image, int width, int height, ResampleFilter filter)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (width == image.Width && height == image.Height) return image.Rgb;
        var rgb = image.Rgb;
        int n = image.Width * image.Height;
        switch (image.Mode)
        {
            case PilImageMode.P:
            case PilImageMode.Bilevel:
                return PilResampler.Resize(rgb, width, height, ResampleFilter.Nearest);
            case PilImageMode.L:
            {
                // One channel is enough: the three are equal and resampled identically.
                var gray = new byte[n];
                for (int i = 0; i < n; i++) gray[i] = rgb.Pixels[3 * i];
                return Replicate(PilResampler.Resize(gray, image.Width, image.Height, 1, width, height, filter), width, height);
            }
            case PilImageMode.RGBA:
            {
                var alpha = image.Alpha!;
                var premultiplied = new byte[n * 4];
                for (int i = 0; i < n; i++)
                {
                    int a = alpha[i];
                    for (int c = 0; c < 3; c++) premultiplied[4 * i + c] = MulDiv255(rgb.Pixels[3 * i + c], a);
                    premultiplied[4 * i + 3] = (byte)a;
                }
                var resized = PilResampler.Resize(premultiplied, image.Width, image.Height, 4, width, height, filter);
                var output = new byte[width * height * 3];
                for (int i = 0; i < width * height; i++)
                {
                    int a = resized[4 * i + 3];
                    for (int c = 0; c < 3; c++) output[3 * i + c] = Unpremultiply(resized[4 * i + c], a);
                }
                return new RgbImage(width, height, output);
            }
            case PilImageMode.LA:
            {
                var alpha = image.Alpha!;
                var premultiplied = new byte[n * 2];
                for (int i = 0; i < n; i++)
                {
                    premultiplied[2 * i] = MulDiv255(rgb.Pixels[3 * i], alpha[i]);
                    premultiplied[2 * i + 1] = alpha[i];
                }
                var resized = PilResampler.Resize(premultiplied, image.Width, image.Height, 2, width, height, filter);
                var gray = new byte[width * height];
                for (int i = 0; i < gray.Length; i++) gray[i] = Unpremultiply(resized[2 * i], resized[2 * i + 1]);
                return Replicate(gray, width, height);
            }
            case PilImageMode.I:
            {
                var values = PilResampler.ResizeInt32(image.Intensity!, image.Width, image.Height, width, height, filter);
                var gray = new byte[values.Length];
                for (int i = 0; i < values.Length; i++) gray[i] = (byte)Math.Clamp(values[i], 0, 255);
                return Replicate(gray, width, height);
            }
            default:
                return PilResampler.Resize(rgb, width, height, filter);
        }
    }

    /// <summary>Pillow's RGBA -> RGBa: c * a / 255 with its rounding trick.</summary>
    static byte MulDiv255(int c, int a)
    {
        int t = c * a + 128;
        return (byte)(((t >> 8) + t) >> 8);
    }

    /// <summary>Pillow's RGBa -> RGBA: untouched for alpha 0 or 255, else min(255, 255 * c / a) truncated.</summary>
    static byte Unpremultiply(int c, int a) => a is 0 or 255 ? (byte)c : (byte)Math.Min(255, 255 * c / a);

    static RgbImage Replicate(byte[] gray, int width, int height)
    {
        var output = new byte[gray.Length * 3];
        for (int i = 0; i < gray.Length; i++) output[3 * i] = output[3 * i + 1] = output[3 * i + 2] = gray[i];
        return new RgbImage(width, height, output);
    }

    /// <summary>ToTensor + Normalize into <paramref name="destination"/> (3 * Size * Size floats, CHW).</summary>
    public void Normalize(RgbImage prepared, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(prepared);
        int plane = prepared.Width * prepared.Height;
        if (destination.Length != plane * 3) throw new ArgumentException($"Need {plane * 3} floats, got {destination.Length}.", nameof(destination));
        var px = prepared.Pixels;
        for (int c = 0; c < 3; c++)
        {
            float m = _mean[c], s = _std[c];
            var dst = destination.Slice(c * plane, plane);
            // torchvision: float32 x / 255, then (x - mean) / std, each rounded to float32.
            for (int i = 0; i < plane; i++) dst[i] = (px[3 * i + c] / 255f - m) / s;
        }
    }

    /// <summary>Normalised float32 tensor [3, Size, Size] for a decoded image.</summary>
    public Tensor Preprocess(DecodedImage image)
    {
        var data = new float[3 * Size * Size];
        Normalize(PrepareRgb(image), data);
        using var scope = NewDisposeScope();
        return tensor(data, [3L, Size, Size]).MoveToOuterDisposeScope();
    }

    /// <summary>Decodes and preprocesses one file; throws <see cref="ImageDecodeException"/> naming it if it does not decode.</summary>
    public Tensor Preprocess(string path) => Preprocess(ImageDecoder.Decode(path));

    /// <summary>
    /// Decodes and preprocesses files in parallel into one float32 tensor [N, 3, Size, Size], in input order.
    /// </summary>
    public Tensor PreprocessBatch(IReadOnlyList<string> paths, int maxDegreeOfParallelism = -1)
    {
        ArgumentNullException.ThrowIfNull(paths);
        int per = 3 * Size * Size;
        var data = new float[checked(paths.Count * per)];
        RunParallel(paths.Count, maxDegreeOfParallelism,
            i => Normalize(PrepareRgb(ImageDecoder.Decode(paths[i])), data.AsSpan(i * per, per)));
        using var scope = NewDisposeScope();
        return tensor(data, [paths.Count, 3L, Size, Size]).MoveToOuterDisposeScope();
    }

    /// <summary>Preprocesses already decoded images in parallel into [N, 3, Size, Size].</summary>
    public Tensor PreprocessBatch(IReadOnlyList<DecodedImage> images, int maxDegreeOfParallelism = -1)
    {
        ArgumentNullException.ThrowIfNull(images);
        int per = 3 * Size * Size;
        var data = new float[checked(images.Count * per)];
        RunParallel(images.Count, maxDegreeOfParallelism, i => Normalize(PrepareRgb(images[i]), data.AsSpan(i * per, per)));
        using var scope = NewDisposeScope();
        return tensor(data, [images.Count, 3L, Size, Size]).MoveToOuterDisposeScope();
    }

    /// <summary>Parallel.For that rethrows the first failure itself (e.g. the ImageDecodeException naming a file), not an AggregateException.</summary>
    static void RunParallel(int count, int maxDegreeOfParallelism, Action<int> body)
    {
        try
        {
            Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism }, body);
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
        }
    }
}
