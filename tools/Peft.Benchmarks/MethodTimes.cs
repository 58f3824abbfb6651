using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Peft.Clip.Loading;
using Peft.Clip.Text;
using Peft.Core;
using Peft.Host.Plugins;
using static TorchSharp.torch;

/// <summary>
/// Time of each installed method on a 16-shot task from cached features (features in memory: clustered random
/// vectors of the model's dimension, 10 views), with the frozen text tower of the given checkpoint. Methods with
/// long epoch loops can be run for a given number of epochs and reported per epoch.
/// </summary>
static class MethodTimes
{
    public static int Run(string checkpoint, int classes, int shots, int epochsForLongMethods)
    {
        using var clip = ClipLoader.Load(checkpoint);
        var catalog = MethodCatalog.Load(includeBuiltIn: true);
        int d = clip.Model.EmbedDim, n = classes * shots, views = 20; // CLAP pools 20 augmented passes
        var g = new Generator(7);
        var centres = randn([classes, d], generator: g);
        Tensor Sample(int perClass, int copies = 1)
        {
            var labels = arange(classes).repeat_interleave(perClass);
            var x = centres.index_select(0, labels).unsqueeze(0).expand(copies, -1, -1) + randn([copies, classes * perClass, d], generator: g) * 1.5;
            return copies == 1 ? x[0] : x;
        }
        var features = new InMemoryTaskFeatures(Sample(shots), arange(classes, dtype: ScalarType.Int64).repeat_interleave(shots),
            Sample(shots, views), Sample(Math.Min(shots, 4)), arange(classes, dtype: ScalarType.Int64).repeat_interleave(Math.Min(shots, 4)));
        var names = Enumerable.Range(0, classes).Select(i => $"class {i}").ToList();
        Console.WriteLine($"{classes} classes x {shots} shots (N = {n}), D = {d}, {views} cached views; text tower: {clip.Model.Config.Describe()}; {get_num_threads()} threads");
        foreach (var method in catalog.Methods.Where(m => !m.IsEncoderMethod)) // encoder tier: `encoder-steps`
        {
            var overrides = new Dictionary<string, string?>();
            // Methods whose schedule runs the text tower every step (or is long on features): timed for a few epochs, projected.
            bool perEpoch = method.OptionsType.GetProperty("Epochs") is not null && DefaultEpochs(method.Name, shots) is not null;
            if (perEpoch) overrides["epochs"] = epochsForLongMethods.ToString();
            var config = new ConfigurationBuilder().AddInMemoryCollection(overrides).Build();
            var context = new AdaptationContext
            {
                Task = new FewShotTask("bench", names, ["a photo of a {}."], shots, 1), Features = features,
                TextEncoder = clip.Model, Tokenizer = ClipTokenizer.Default, Generator = new Generator(1),
            };
            var sw = Stopwatch.StartNew();
            using var classifier = method.Create(config).Fit(context);
            var seconds = sw.Elapsed.TotalSeconds;
            var note = perEpoch ? $" for {epochsForLongMethods} epoch(s) = {seconds / epochsForLongMethods:F2} s/epoch (default schedule: {DefaultEpochs(method.Name, shots)} epochs ≈ {seconds / epochsForLongMethods * DefaultEpochs(method.Name, shots)!.Value / 60:F1} min)" : "";
            Console.WriteLine($"  {method.Name,-14} {seconds,8:F1} s{note}; trainable parameters {classifier.TrainableParameters:N0}");
        }
        return 0;
    }

    /// <summary>The published epochs of the methods timed per epoch (null: timed whole).</summary>
    static int? DefaultEpochs(string method, int shots) => method switch
    {
        "coop" or "clip-adapter" => shots == 1 ? 50 : shots <= 4 ? 100 : 200, // CoOp configs (also CLIP-Adapter's)
        "kgcoop" => 100,  // KgCoOp configs/trainers/KgCoOp
        "cocoop" => 10,   // CoCoOp vit_b16_c4_ep10_batch1_ctxv1
        _ => null,
    };
}
