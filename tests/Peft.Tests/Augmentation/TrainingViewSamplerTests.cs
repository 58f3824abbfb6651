using Peft.Imaging;
using Peft.Data.Augmentation;
using Peft.Tests.Imaging;
using static TorchSharp.torch;

namespace Peft.Tests.Augmentation;

public class TrainingViewSamplerTests
{
    static readonly Lazy<DecodedImage> Chelsea = new(() => ImageDecoder.Decode(ImageFixtures.PathOf("photo_chelsea.jpg")));
    static readonly Lazy<DecodedImage> Coffee = new(() => ImageDecoder.Decode(ImageFixtures.PathOf("photo_coffee.jpg")));

    static readonly AugmentationSpec Spec = new(64); // small output keeps the tests fast; geometry is size-independent

    [Fact]
    public void AViewIsAPureFunctionOfSeedKeyAndIndex()
    {
        var first = TrainingViewSampler.Sample(Spec, 3, "cat.jpg", 5, Chelsea.Value);
        // Other views in between must not matter (no shared generator state).
        for (int v = 0; v < 4; v++) TrainingViewSampler.Sample(Spec, 3, "cat.jpg", v, Chelsea.Value);
        TrainingViewSampler.Sample(Spec, 3, "coffee.jpg", 5, Coffee.Value);
        Assert.Equal(first.Pixels, TrainingViewSampler.Sample(Spec, 3, "cat.jpg", 5, Chelsea.Value).Pixels);

        Assert.NotEqual(first.Pixels, TrainingViewSampler.Sample(Spec, 3, "cat.jpg", 6, Chelsea.Value).Pixels);
        Assert.NotEqual(first.Pixels, TrainingViewSampler.Sample(Spec, 4, "cat.jpg", 5, Chelsea.Value).Pixels);
        Assert.NotEqual(first.Pixels, TrainingViewSampler.Sample(Spec, 3, "kitten.jpg", 5, Chelsea.Value).Pixels);
    }

    [Fact]
    public void SampleWithSeedIsSampleWithThatViewsGenerator()
    {
        var spec = AugmentationSpec.TipAdapter(96);
        var expected = TrainingViewSampler.Sample(spec, Coffee.Value, SplitMix64ViewRandom.ForView(11, "k", 2));
        Assert.Equal(expected.Pixels, TrainingViewSampler.Sample(spec, 11, "k", 2, Coffee.Value).Pixels);
    }

    [Fact]
    public void DrawsFollowTheSpecsRanges()
    {
        // Over many views: accepted boxes respect scale and ratio, the flip happens about half the time.
        var spec = AugmentationSpec.TipAdapter();
        var image = Chelsea.Value;
        int flips = 0, views = 2000;
        for (int v = 0; v < views; v++)
        {
            var random = new RecordingRandom(SplitMix64ViewRandom.ForView(1, "x", v));
            var box = RandomResizedCrop.GetParams(image.Width, image.Height, spec.ScaleMin, spec.ScaleMax, spec.RatioMin, spec.RatioMax, random);
            double area = (double)box.Width * box.Height / (image.Width * image.Height);
            double ratio = (double)box.Width / box.Height;
            // Rounding w and h to integers moves area and ratio slightly past the bounds.
            Assert.InRange(area, 0.49, 1.0);
            Assert.InRange(ratio, 0.74, 1.35);
            if (HorizontalFlip.Decide(spec.FlipProbability, random)) flips++;
            Assert.All(random.Uniforms, u => Assert.InRange(u.Value, u.Low, u.High));
        }
        Assert.InRange(flips, 900, 1100); // 0.5 * 2000 +- 4.5 sd
    }

    [Fact]
    public void TensorIsTheNormalisedView()
    {
        var view = TrainingViewSampler.Sample(Spec, 9, "cat.jpg", 0, Chelsea.Value);
        var expected = new float[3 * 64 * 64];
        new ClipPreprocessor(64).Normalize(view, expected);

        using var t = TrainingViewSampler.Tensor(Spec, 9, "cat.jpg", 0, Chelsea.Value);
        Assert.Equal(new long[] { 3, 64, 64 }, t.shape);
        Assert.Equal(ScalarType.Float32, t.dtype);
        Assert.Equal(expected, t.data<float>().ToArray());
    }

    [Fact]
    public void ParallelBatchEqualsOneViewAtATime()
    {
        var requests = new List<TrainingViewRequest>();
        for (int v = 0; v < 6; v++)
        {
            requests.Add(new TrainingViewRequest("cat.jpg", v, Chelsea.Value));
            requests.Add(new TrainingViewRequest("coffee.jpg", v, Coffee.Value));
        }
        var normalizer = new ClipPreprocessor(mean: [0.5f, 0.5f, 0.5f], std: [0.25f, 0.25f, 0.25f]);

        using var batch = TrainingViewSampler.TensorBatch(Spec, 17, requests, normalizer, maxDegreeOfParallelism: 4);

        Assert.Equal(new long[] { requests.Count, 3, 64, 64 }, batch.shape);
        for (int i = 0; i < requests.Count; i++)
        {
            var r = requests[i];
            using var single = TrainingViewSampler.Tensor(Spec, 17, r.ImageKey, r.ViewIndex, r.Image, normalizer);
            using var row = batch[i];
            Assert.Equal(single.data<float>().ToArray(), row.data<float>().ToArray());
        }
    }

    [Fact]
    public void OutputHasTheSpecsSizeWhateverTheInput()
    {
        var tiny = ImageDecoder.Decode(ImageFixtures.PathOf("tiny_7x10.png"));
        var panorama = ImageDecoder.Decode(ImageFixtures.PathOf("panorama.jpg"));
        for (int v = 0; v < 20; v++)
        {
            Assert.Equal((64, 64), Size(TrainingViewSampler.Sample(Spec, 0, "t", v, tiny)));
            Assert.Equal((64, 64), Size(TrainingViewSampler.Sample(Spec, 0, "p", v, panorama)));
        }
        static (int, int) Size(RgbImage i) => (i.Width, i.Height);
    }

    sealed class RecordingRandom(IViewRandom inner) : IViewRandom
    {
        public List<(double Low, double High, double Value)> Uniforms { get; } = [];

        public double NextUniform(double low, double high)
        {
            double v = inner.NextUniform(low, high);
            Uniforms.Add((low, high, v));
            return v;
        }

        public int NextInteger(int low, int highExclusive) => inner.NextInteger(low, highExclusive);
    }
}
