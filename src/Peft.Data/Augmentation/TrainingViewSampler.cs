using System.Runtime.ExceptionServices;
using Peft.Imaging;
using TorchSharp;
using static TorchSharp.torch;

namespace Peft.Data.Augmentation;

/// <summary>
/// Makes reproducible training views: <c>RandomResizedCrop</c> (or the evaluation centre crop) +
/// <c>RandomHorizontalFlip</c> as <see cref="AugmentationSpec"/> describes, on the decoded RGB image.
/// <para>
/// The geometric algorithm and the pixels are torchvision 0.14's + PIL 9.4's exactly, for the same random numbers:
/// the box of <c>get_params</c>, <c>crop</c> then Pillow's resize, Pillow's left-right flip, then ToTensor + Normalize
/// as <see cref="ClipPreprocessor"/> does them. The random numbers themselves are NOT torchvision's (it draws from
/// torch's global generator, so its views depend on everything else that used it): each view has its own
/// <see cref="SplitMix64ViewRandom"/> seeded from (seed, image key, view index), so view v of an image is the same
/// whatever order, thread or cache state it is made in. Stateless and thread-safe.
/// </para>
/// </summary>
public static class TrainingViewSampler
{
    /// <summary>View <paramref name="viewIndex"/> of the image with identity <paramref name="imageKey"/> under <paramref name="seed"/>.</summary>
    public static RgbImage Sample(AugmentationSpec spec, long seed, string imageKey, int viewIndex, DecodedImage image) =>
        Sample(spec, image, SplitMix64ViewRandom.ForView(seed, imageKey, viewIndex));

    /// <summary>
    /// The view for the numbers <paramref name="random"/> gives, drawn in torchvision's order:
    /// the crop's draws, then one for the flip.
    /// </summary>
    public static RgbImage Sample(AugmentationSpec spec, DecodedImage image, IViewRandom random)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(random);
        RgbImage view;
        if (spec.CenterCrop) view = new ClipPreprocessor(spec.Size).PrepareRgb(image);   // torchvision Resize + CenterCrop: no draw
        else
        {
            var rgb = image.Rgb;
            var box = RandomResizedCrop.GetParams(rgb.Width, rgb.Height, spec.ScaleMin, spec.ScaleMax, spec.RatioMin, spec.RatioMax, random);
            view = RandomResizedCrop.Apply(rgb, box, spec.Size, spec.Size, spec.Interpolation);
        }
        return HorizontalFlip.Decide(spec.FlipProbability, random) ? HorizontalFlip.Apply(view) : view;
    }

    /// <summary>
    /// The normalised float32 tensor [3, Size, Size] of a view. <paramref name="normalizer"/> supplies mean and std
    /// (CLIP's when null); its own size is irrelevant here.
    /// </summary>
    public static Tensor Tensor(AugmentationSpec spec, long seed, string imageKey, int viewIndex, DecodedImage image,
        ClipPreprocessor? normalizer = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var data = new float[3 * spec.Size * spec.Size];
        (normalizer ?? new ClipPreprocessor(spec.Size)).Normalize(Sample(spec, seed, imageKey, viewIndex, image), data);
        using var scope = NewDisposeScope();
        return tensor(data, [3L, spec.Size, spec.Size]).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The views of <paramref name="requests"/>, made in parallel, as one float32 tensor [N, 3, Size, Size] in request order.
    /// Identical to calling <see cref="Tensor"/> per request.
    /// </summary>
    public static Tensor TensorBatch(AugmentationSpec spec, long seed, IReadOnlyList<TrainingViewRequest> requests,
        ClipPreprocessor? normalizer = null, int maxDegreeOfParallelism = -1)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(requests);
        var norm = normalizer ?? new ClipPreprocessor(spec.Size);
        int per = 3 * spec.Size * spec.Size;
        var data = new float[checked(requests.Count * per)];
        try
        {
            Parallel.For(0, requests.Count, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism }, i =>
            {
                var r = requests[i] ?? throw new ArgumentException($"Request {i} is null.", nameof(requests));
                norm.Normalize(Sample(spec, seed, r.ImageKey, r.ViewIndex, r.Image), data.AsSpan(i * per, per));
            });
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
        }
        using var scope = NewDisposeScope();
        return tensor(data, [requests.Count, 3L, spec.Size, spec.Size]).MoveToOuterDisposeScope();
    }
}
