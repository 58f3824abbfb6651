using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Peft.Clip.Model;
using Peft.Clip.Text;
using Peft.Core;
using Peft.Core.Encoders;
using Peft.Host.Experiments;
using Peft.Host.Plugins;
using static TorchSharp.torch;

/// <summary>
/// Cost of the encoder tier on a random-weight CLIP (ViT-B/16 by default): time and peak memory of one training step
/// of each encoder-level method at batch 32, in fp32 and bf16, measured as the difference between fits of 2k and k
/// steps, each the fastest of `repeats` after one warm-up fit (so set-up and the final text encoding cancel, and a busy CPU
/// for a moment does not count); the image forward throughput of the frozen tower (what
/// filling the feature cache costs the feature-level methods); and the projected cost of the 11-dataset CoOp protocol
/// (5 shot counts × 3 seeds) per method on this machine: training steps by the published schedules, plus encoding
/// every cell's test split through its adapted towers.
/// </summary>
static class EncoderSteps
{
    // CoOp's 11 datasets: classes and test-split sizes (CoOp DATASETS.md / split_zhou_*.json; ImageNet: its val set).
    static readonly (string Name, int Classes, int Test)[] Datasets =
    [
        ("imagenet", 1000, 50000), ("caltech101", 100, 2465), ("oxford_pets", 37, 3669), ("stanford_cars", 196, 8041),
        ("oxford_flowers", 102, 2463), ("food101", 101, 30300), ("fgvc_aircraft", 100, 3333), ("sun397", 397, 19850),
        ("dtd", 47, 1692), ("eurosat", 10, 8100), ("ucf101", 101, 3783),
    ];
    static readonly int[] Shots = [1, 2, 4, 8, 16];
    const int Seeds = 3, Batch = 32;

    /// <param name="modes">Comma-separated: fp32, bf16, fp32-checkpoint, bf16-checkpoint (gradient checkpointing per block).</param>
    /// <param name="only">Comma-separated method names to time (null: every encoder-tier method).</param>
    public static int Run(string preset, int k, int repeats, string modes = "fp32,bf16", string? only = null)
    {
        var config = preset switch
        {
            "vit-b16" => new ClipConfig
            {
                EmbedDim = 512, ImageResolution = 224, VisionLayers = [12], VisionWidth = 768, VisionPatchSize = 16,
                ContextLength = 77, VocabSize = 49408, TextWidth = 512, TextLayers = 12,
            },
            "tiny-vit" => new ClipConfig
            {
                EmbedDim = 128, ImageResolution = 64, VisionLayers = [4], VisionWidth = 128, VisionPatchSize = 8,
                ContextLength = 77, VocabSize = 49408, TextWidth = 128, TextLayers = 4,
            },
            _ => throw new ArgumentException($"preset '{preset}': vit-b16 or tiny-vit"),
        };
        var catalog = MethodCatalog.Load(includeBuiltIn: true);
        var methods = catalog.Methods.Where(m => m.IsEncoderMethod && (only is null || only.Split(',').Contains(m.Name))).ToList();
        Console.WriteLine($"{preset}: {config.Describe()}, random weights, batch {Batch}, {get_num_threads()} threads; " +
                          $"per step = (fit of {2 * k} steps − fit of {k}) / {k}, fastest of {repeats}");
        var rows = new List<(string Method, string Dtype, double StepSeconds, double PeakMb)>();
        double imagesPerSecond = 0;
        foreach (var mode in modes.Split(','))
        {
            var dtype = mode.StartsWith("bf16") ? ScalarType.BFloat16 : mode.StartsWith("fp32") ? ScalarType.Float32
                : throw new ArgumentException($"mode '{mode}': fp32, bf16, fp32-checkpoint or bf16-checkpoint");
            bool checkpoint = mode.EndsWith("-checkpoint");
            using var model = new ClipModel(config);
            var g = new Generator(0);
            using (no_grad()) foreach (var (_, p) in model.named_parameters()) p.normal_(0, 0.02, g);
            model.UseComputeType(dtype);
            var images = randn([Batch, 3, config.ImageResolution, config.ImageResolution], generator: g);
            if (dtype == ScalarType.Float32 && imagesPerSecond == 0)
            {
                model.EncodeImage(images).Dispose(); // warm-up and the convolution check
                var sw = Stopwatch.StartNew();
                model.EncodeImage(images).Dispose();
                imagesPerSecond = Batch / sw.Elapsed.TotalSeconds;
            }
            foreach (var method in methods)
            {
                var (options, classes) = StepOptions(method.Name, Math.Min(9, config.VisionLayers[0]));
                double Fit(int steps)
                {
                    var task = new FewShotTask("bench", Enumerable.Range(0, classes).Select(i => $"class {i}").ToList(), ["a photo of a {}."], 1, 1);
                    var context = new EncoderAdaptationContext
                    {
                        Task = task, Clip = model, Tokenizer = ClipTokenizer.Default, Train = new RandomImages(images, classes),
                        Validation = new RandomImages(images, classes).AsEvaluation(), Generator = new Generator(1),
                    };
                    var values = options(steps);
                    if (checkpoint) values["gradientCheckpointing"] = "true";
                    var built = method.CreateEncoder!(new ConfigurationBuilder().AddInMemoryCollection(values).Build());
                    var sw = Stopwatch.StartNew();
                    using var classifier = built.Fit(context);
                    return sw.Elapsed.TotalSeconds;
                }
                Fit(1); // warm-up: first-use costs (kernel selection, allocator growth) out of the difference (without it a bf16 BitFit step read 1.9 s instead of ~6)
                PeakMemory.Reset();
                // The fastest of `repeats` fits each: robust to other processes taking the CPU for a while.
                double once = Enumerable.Range(0, repeats).Min(_ => Fit(k)), twice = Enumerable.Range(0, repeats).Min(_ => Fit(2 * k));
                rows.Add((method.Name, mode, Math.Max(0, twice - once) / k, PeakMemory.PeakMb()));
                Console.WriteLine($"  {method.Name,-10} {rows[^1].Dtype}  {rows[^1].StepSeconds,7:F2} s/step  peak {rows[^1].PeakMb,7:F0} MB");
            }
        }
        Console.WriteLine($"frozen image tower (fp32): {imagesPerSecond:F1} images/s at batch {Batch}");
        Project(rows, imagesPerSecond);
        // Last line: JSON for tools/bench/encoder-methods-vs-official.sh.
        Console.WriteLine(System.Text.Json.JsonSerializer.Serialize(new
        {
            side = "ours", preset, batch = Batch, threads = get_num_threads(),
            step_s = rows.GroupBy(r => r.Method).ToDictionary(g => g.Key, g => g.ToDictionary(r => r.Dtype, r => r.StepSeconds)),
            peak_mb = rows.GroupBy(r => r.Method).ToDictionary(g => g.Key, g => g.ToDictionary(r => r.Dtype, r => r.PeakMb)),
        }));
        return 0;
    }

    /// <summary>Options that make one fit take <c>steps</c> steps of batch 32 on 32 images (1 shot: ItersPerShot = steps),
    /// and the classes the text side encodes per step (10 here; the projection scales MaPLe's text cost separately).</summary>
    static (Func<int, Dictionary<string, string?>> Options, int Classes) StepOptions(string method, int mapleDepth) => method switch
    {
        "clip-lora" or "bitfit" => (steps => new() { ["itersPerShot"] = $"{steps}", ["batchSize"] = $"{Batch}" }, 10),
        "vpt" => (steps => new() { ["epochs"] = $"{steps}", ["batchSize"] = $"{Batch}", ["warmupEpochs"] = "0" }, 10),
        "maple" => (steps => new() { ["epochs"] = $"{steps}", ["batchSize"] = $"{Batch}", ["warmupEpochs"] = "0", ["depth"] = $"{mapleDepth}" }, 10), // published 9
        _ => (steps => new() { ["epochs"] = $"{steps}", ["batchSize"] = $"{Batch}" }, 10),
    };

    /// <summary>Steps of the published schedule for one cell (batch 32 equivalents: smaller published batches cost
    /// proportionally less per step, to first order).</summary>
    static double CellSteps(string method, int classes, int shots) => method switch
    {
        "clip-lora" => 500.0 * shots,                                   // lora.py: n_iters × shots at batch 32
        "bitfit" => 300.0 * shots,                                      // 2SFS: M × shots at batch 32
        "vpt" or "maple" => 5.0 * classes * shots / Batch,              // 5 epochs over N images (batch 4: N/4 steps of 1/8 the work)
        _ => double.NaN,
    };

    static void Project(List<(string Method, string Dtype, double StepSeconds, double PeakMb)> rows, double imagesPerSecond)
    {
        Console.WriteLine();
        Console.WriteLine($"Projected cost of the 11-dataset protocol (shots {string.Join('/', Shots)}, {Seeds} seeds = {Datasets.Length * Shots.Length * Seeds} cells per method) on this machine:");
        long allTest = Datasets.Sum(d => (long)d.Test);
        double evalPerCellSet = allTest * Shots.Length * Seeds / imagesPerSecond; // every cell re-encodes its test split
        foreach (var dtype in rows.Select(r => r.Dtype).Distinct())
            foreach (var row in rows.Where(r => r.Dtype == dtype))
            {
                double train = Datasets.Sum(d => Shots.Sum(s => CellSteps(row.Method, d.Classes, s))) * Seeds * row.StepSeconds;
                // MaPLe runs the text tower over every class at every step: scale its measured 10-class text share.
                Console.WriteLine($"  {row.Method,-10} {dtype}: training {Hours(train)}, test encoding through adapted towers {Hours(evalPerCellSet)} (fp32 throughput)" +
                                  (row.Method == "maple" ? " — text tower per step measured at 10 classes; ImageNet's 1000 make its steps far costlier" : ""));
            }
        // Feature-level methods: one pass over every image of the 11 datasets fills the cache they share.
        Console.WriteLine($"  feature-level methods: filling the feature cache (each test image once, train/val of the few-shot splits: small) " +
                          $"{Hours(allTest / imagesPerSecond)}, then seconds to minutes per cell from cached features (method-times)");
    }

    static string Hours(double seconds) => seconds >= 3600 ? $"{seconds / 3600:F1} h" : $"{seconds / 60:F1} min";

    /// <summary>The same images every step (a cost benchmark), labels cycling over the classes.</summary>
    sealed class RandomImages(Tensor images, int classes) : ITrainingImages
    {
        public int Count => (int)images.shape[0];
        public Tensor Labels { get; } = arange(images.shape[0], dtype: ScalarType.Int64).remainder(classes);
        public Tensor Images(IReadOnlyList<long> indices, int view) => images.index_select(0, tensor(indices.ToArray()));
        public IEvaluationImages AsEvaluation() => new Evaluation(this);
        sealed class Evaluation(RandomImages train) : IEvaluationImages
        {
            public int Count => train.Count;
            public Tensor Labels => train.Labels;
            public Tensor Images(IReadOnlyList<long> indices) => train.Images(indices, 0);
        }
    }
}
