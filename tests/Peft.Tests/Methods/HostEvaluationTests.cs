using Peft.Imaging;
using Peft.Clip.Text;
using Peft.Core;
using Peft.Data.Augmentation;
using Peft.Features;
using Peft.Data.Datasets;
using Peft.Data.Splits;
using Peft.Data.Synthetic;
using Peft.Host.Methods;
using Peft.Methods.ZeroShot;
using static TorchSharp.torch;

namespace Peft.Tests.Methods;

public sealed class HostEvaluationTests() : TempDirectory("peft-eval-")
{
    /// <summary>Returns the logits row whose index is the (single) feature value, so batching cannot reorder them.</summary>
    sealed class FixedClassifier(Tensor logits) : IFeatureClassifier
    {
        public Tensor Logits(Tensor imageFeatures) => logits.index_select(0, imageFeatures[.., 0].to(ScalarType.Int64));
        public long TrainableParameters => 0;
        public IReadOnlyDictionary<string, Tensor> Weights => new Dictionary<string, Tensor>();
        public void Dispose() { }
    }

    [Fact]
    public void Top1AndMeanPerClassAccuracyByHand()
    {
        using var scope = NewDisposeScope();
        // Labels 0,0,0,1 ; predictions 0,0,1,1 → top-1 3/4; per class 2/3 and 1/1 → mean 5/6.
        var logits = tensor(new float[] { 1, 0, 1, 0, 0, 1, 0, 1 }).view(4, 2);
        var result = ClassifierEvaluation.Evaluate(new FixedClassifier(logits), arange(4, dtype: ScalarType.Float32).view(4, 1), tensor(new long[] { 0, 0, 0, 1 }), 3, batchSize: 3);
        Assert.Equal(0.75, result.Top1, 12);
        Assert.Equal(5.0 / 6.0, result.MeanPerClass, 12);
        Assert.True(double.IsNaN(result.PerClass[2]));
    }

    [Fact]
    public void AMethodSeesCachedTrainAndValidationFeaturesAndTheHostEvaluatesOnTest()
    {
        using var scope = NewDisposeScope();
        var world = Temp("world");
        SyntheticWorld.Generate(world, new SyntheticWorldOptions { PretrainCount = 0, TrainPerClass = 4, ValPerClass = 2, TestPerClass = 3, ImageSize = 32 });
        var dataset = new CoopLayoutReader().Read(Path.Combine(world, "synth_shapes"));
        var split = SplitManifest.Create(dataset, new FewShotRequest(2, 1));
        using var support = new MethodTestSupport();
        var cache = new FeatureCache(Temp("cache"), support.Clip.Model);
        using var features = new CachedTaskFeatures(cache, dataset, split, new EvalViewRenderer(new ClipPreprocessor(32)), AugmentationSpec.TipAdapter(32));
        var context = new AdaptationContext
        {
            Task = new FewShotTask(dataset.Name, dataset.ClassNames, dataset.Templates, 2, 1), Features = features,
            TextEncoder = support.Clip.Model, Tokenizer = ClipTokenizer.Default, Generator = new Generator(1),
        };
        Assert.Equal([20L, 32L], context.Features.TrainFeatures().shape);
        Assert.Equal([3L, 20L, 32L], context.Features.TrainViews(3).shape);
        Assert.Equal([20L, 32L], context.Features.ValFeatures().shape);

        using var classifier = new ZeroShotClip(new ZeroShotOptions()).Fit(context);
        var result = ClassifierEvaluation.Evaluate(classifier, features.TestFeatures(), features.TestLabels, dataset.ClassNames.Count);
        Assert.InRange(result.Top1, 0, 1);
        Assert.Equal(10, result.PerClass.Count);
        long encoded = cache.Stats.Encoded;
        Assert.Equal(20 + 60 + 20 + 30, encoded); // train, 3 views, val, test — each once
        features.TrainViews(2); // fewer views than cached: no new encoding
        Assert.Equal(encoded, cache.Stats.Encoded);
    }
}
