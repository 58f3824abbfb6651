using Peft.Clip.Loading;
using Peft.Clip.Text;
using Peft.Core;
using Peft.Tests.Host;
using static TorchSharp.torch;

namespace Peft.Tests.Methods;

/// <summary>A small random CLIP and synthetic features for unit tests of methods.</summary>
sealed class MethodTestSupport : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("peft-method-").FullName;
    public LoadedClip Clip { get; }

    public MethodTestSupport(long seed = 1) =>
        Clip = ClipLoader.Load(RandomClip.Save(Path.Combine(_dir, "m.safetensors"), RandomClip.SmallViT, seed));

    /// <summary>A context over random features: N = classes × shots training images, V views, M validation images.</summary>
    public AdaptationContext Context(string[] classes, int shots, int views = 2, int valPerClass = 2, ulong seed = 1)
    {
        var g = new Generator(seed);
        int d = Clip.Model.EmbedDim, n = classes.Length * shots, m = classes.Length * valPerClass;
        var trainLabels = arange(classes.Length, dtype: ScalarType.Int64).repeat_interleave(shots);
        var valLabels = arange(classes.Length, dtype: ScalarType.Int64).repeat_interleave(valPerClass);
        var features = new InMemoryTaskFeatures(randn([n, d], generator: g), trainLabels, randn([views, n, d], generator: g),
            randn([m, d], generator: g), valLabels);
        return new AdaptationContext
        {
            Task = new FewShotTask("test", classes, ["a photo of a {}."], shots, 1),
            Features = features, TextEncoder = Clip.Model, Tokenizer = ClipTokenizer.Default, Generator = new Generator(seed + 100),
        };
    }

    public void Dispose()
    {
        Clip.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
