using Peft.Clip.Text;
using Peft.Core;
using static TorchSharp.torch;

namespace Peft.Testing;

/// <summary>
/// An in-memory few-shot task for unit tests of a method, in milliseconds: image features drawn around the (fake) text
/// features of each class's prompt, so text-anchored methods start above chance and training can improve on them.
/// <see cref="Context"/> is what the host would give <see cref="IAdaptationMethod.Fit"/>; the test features are held
/// out for <see cref="Accuracy"/>, as the host holds them out.
/// </summary>
public sealed class SyntheticTask : IDisposable
{
    /// <summary>Class names used when none are given.</summary>
    public static readonly IReadOnlyList<string> DefaultClasses = ["circle", "square", "triangle", "star", "heart"];

    readonly List<Tensor> _owned = [];

    SyntheticTask(AdaptationContext context, FakeTextEncoder encoder, RecordingMetricSink metrics, Tensor testFeatures, Tensor testLabels)
    {
        Context = context;
        TextEncoder = encoder;
        Metrics = metrics;
        TestFeatures = testFeatures;
        TestLabels = testLabels;
    }

    /// <summary>Task, features (training, views, validation), text encoder, tokenizer, generator and metric sink.</summary>
    public AdaptationContext Context { get; }
    public FakeTextEncoder TextEncoder { get; }
    /// <summary>What the method logged through <c>context.Metrics</c>.</summary>
    public RecordingMetricSink Metrics { get; }
    /// <summary>Held-out features [M, D] and labels [M] (not in <see cref="Context"/>).</summary>
    public Tensor TestFeatures { get; }
    public Tensor TestLabels { get; }

    /// <summary>A task of <paramref name="classNames"/> (default <see cref="DefaultClasses"/>).</summary>
    /// <param name="shots">Training images per class.</param>
    /// <param name="views">Cached augmented views of each training image (<c>TrainViews(v)</c>, v ≤ views).</param>
    /// <param name="noise">Spread of the features around their class centre (relative to the centre's norm).</param>
    /// <param name="seed">Seeds the features; the context's generator is seeded from it too.</param>
    public static SyntheticTask Create(IReadOnlyList<string>? classNames = null, int shots = 4, int views = 2, int valPerClass = 4,
        int testPerClass = 20, double noise = 0.8, ulong seed = 1, IReadOnlyList<string>? templates = null, int embedDim = 64)
    {
        PeftTesting.EnsureNativeLibraries();
        classNames ??= DefaultClasses;
        templates ??= ["a photo of a {}."];
        if (classNames.Count < 2) throw new ArgumentException("at least two classes");
        if (shots < 1 || views < 1 || valPerClass < 0 || testPerClass < 1) throw new ArgumentException("shots, views and testPerClass must be ≥ 1, valPerClass ≥ 0");
        var encoder = new FakeTextEncoder(embedDim: embedDim);
        var tokenizer = ClipTokenizer.Default;
        var g = new Generator(seed);
        using var centres = TextClassifier.Build(encoder, tokenizer, classNames, templates); // [C, D], unit norm
        int c = classNames.Count;
        Tensor Draw(int perClass, long[] extra)
        {
            var labels = arange(c, dtype: ScalarType.Int64).repeat_interleave(perClass);
            var shape = extra.Concat([(long)labels.shape[0], encoder.EmbedDim]).ToArray();
            return (centres[labels] + noise / Math.Sqrt(encoder.EmbedDim) * randn(shape, generator: g)) * 10; // CLIP features are not normalised
        }
        Tensor Labels(int perClass) => arange(c, dtype: ScalarType.Int64).repeat_interleave(perClass).DetachFromDisposeScope();
        var train = Draw(shots, []).DetachFromDisposeScope();
        var trainViews = Draw(shots, [views]).DetachFromDisposeScope();
        var val = Draw(valPerClass, []).DetachFromDisposeScope();
        var test = Draw(testPerClass, []).DetachFromDisposeScope();
        var metrics = new RecordingMetricSink();
        var context = new AdaptationContext
        {
            Task = new FewShotTask("synthetic", classNames, templates, shots, (int)seed),
            Features = new InMemoryTaskFeatures(train, Labels(shots), trainViews, val, Labels(valPerClass)),
            TextEncoder = encoder, Tokenizer = tokenizer, Generator = new Generator(seed + 1000), Metrics = metrics,
        };
        var task = new SyntheticTask(context, encoder, metrics, test, Labels(testPerClass));
        task._owned.AddRange([train, trainViews, val, test]);
        return task;
    }

    /// <summary>Top-1 accuracy (%) of <paramref name="classifier"/> on the held-out test features.</summary>
    public double Accuracy(IFeatureClassifier classifier)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var logits = classifier.Logits(TestFeatures);
        return 100.0 * logits.argmax(1).eq(TestLabels).to(ScalarType.Float64).mean().item<double>();
    }

    public void Dispose()
    {
        foreach (var t in _owned) t.Dispose();
        TextEncoder.Dispose();
    }
}
