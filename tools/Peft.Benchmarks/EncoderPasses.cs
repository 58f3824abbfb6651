using Peft.Imaging;
using Peft.Clip.Model;
using Peft.Data.Augmentation;
using Peft.Features;
using Peft.Data.Datasets;
using Peft.Data.Splits;
using static TorchSharp.torch;

/// <summary>
/// Encoder passes for one experiment (every task of a dataset folder × shots 1-16 × seeds 1-3 × the six methods)
/// through the feature cache, against what the official code paths do when each method re-encodes its images
/// (CoOp / CLIP-Adapter every epoch, Tip-Adapter its 10 augmented passes, Tip-Adapter-F also every epoch).
/// </summary>
static class EncoderPasses
{
    static readonly int[] Shots = [1, 2, 4, 8, 16];
    static readonly int[] Seeds = [1, 2, 3];
    const int TipViews = 10, TipFEpochs = 20; // Tip-Adapter configs: augment_epoch 10, train_epoch 20
    static int CoOpEpochs(int k) => k == 1 ? 50 : k <= 4 ? 100 : 200; // CoOp COOP.md run commands

    public static int Run(string worldDir)
    {
        var tasks = Directory.GetDirectories(worldDir).Where(d => File.Exists(Path.Combine(d, "dataset.json"))).Order().ToList();
        if (tasks.Count == 0) { Console.Error.WriteLine($"{worldDir}: no dataset.json folders (make one with ./peft data synth)"); return 2; }
        var first = new CoopLayoutReader().Read(tasks[0]);
        int resolution = ImageDecoder.Decode(first.PathOf(first.Test[0])).Width; // encode at the images' own size
        // A tiny random CLIP: pass counts do not depend on the weights.
        using var model = new ClipModel(new ClipConfig
        {
            EmbedDim = 32, ImageResolution = resolution, VisionLayers = [1], VisionWidth = 64, VisionPatchSize = resolution / 4,
            ContextLength = 77, VocabSize = 49408, TextWidth = 64, TextLayers = 1,
        });
        var cacheDir = Directory.CreateTempSubdirectory("peft-passes-").FullName;
        var cache = new FeatureCache(cacheDir, model, batchSize: 128);
        var eval = new EvalViewRenderer(new ClipPreprocessor(resolution));
        long officialZeroShot = 0, officialProbe = 0, officialCoOp = 0, officialTip = 0, officialTipF = 0;
        foreach (var task in tasks)
        {
            var dataset = new CoopLayoutReader().Read(task);
            var test = dataset.Test.Select(dataset.PathOf).ToList();
            cache.Features(test, eval);
            officialZeroShot += test.Count;                                              // zsclip: test once
            officialProbe += dataset.Train.Count + dataset.Val.Count + test.Count;       // lpclip: all splits once
            foreach (int k in Shots)
                foreach (int seed in Seeds)
                {
                    var split = SplitManifest.Create(dataset, new FewShotRequest(k, seed));
                    var train = split.Train.Select(dataset.PathOf).ToList();
                    cache.Features(split.Val.Select(dataset.PathOf).ToList(), eval);   // validation (selection)
                    cache.Features(train, eval);                                        // linear probe / zero-shot-free features
                    cache.Views(train, new AugmentedViewRenderer(AugmentationSpec.TipAdapter(resolution), seed), TipViews); // shared training views
                    officialCoOp += 2 * (CoOpEpochs(k) * (long)train.Count + test.Count); // CoOp and CLIP-Adapter
                    officialTip += TipViews * (long)train.Count + dataset.Val.Count + test.Count;
                    officialTipF += (TipViews + TipFEpochs) * (long)train.Count + dataset.Val.Count + test.Count;
                }
        }
        long official = officialZeroShot + officialProbe + officialCoOp + officialTip + officialTipF;
        Console.WriteLine($"experiment: {tasks.Count} tasks x shots {string.Join("/", Shots)} x seeds {string.Join("/", Seeds)} x 6 methods");
        Console.WriteLine($"official code paths: {official:N0} image encoder passes (zero-shot {officialZeroShot:N0}, linear probe {officialProbe:N0}, " +
                          $"CoOp + CLIP-Adapter {officialCoOp:N0}, Tip-Adapter {officialTip:N0}, Tip-Adapter-F {officialTipF:N0})");
        Console.WriteLine($"with the feature cache: {cache.Stats.Encoded:N0} passes (first run), then {cache.Stats.Hits:N0} served from disk; ratio {official / (double)cache.Stats.Encoded:F1}x fewer");
        var rerun = new FeatureCache(cacheDir, model, batchSize: 128);
        foreach (var task in tasks)
        {
            var dataset = new CoopLayoutReader().Read(task);
            rerun.Features(dataset.Test.Select(dataset.PathOf).ToList(), eval);
        }
        Console.WriteLine($"a second run of the same grid: {rerun.Stats.Encoded} passes for the test sets ({rerun.Stats.Hits:N0} cached)");
        Directory.Delete(cacheDir, recursive: true);
        return 0;
    }
}
