using System.Diagnostics;
using System.Text.Json;
using Peft.Clip.Loading;
using Peft.Clip.Native;
using static TorchSharp.torch;
using Peft.Tensors;

// Benchmarks print measurements; they never assert wall-clock limits.
//   parity <dir>                      relative errors of every <name>.pt against <name>.expected.safetensors
//   encoder <state_dict.pt> [batch] [batches]   image-encoder throughput fp32 / bf16 (JSON on the last line)
//   matmul                            measured GEMM peak, fp32 and bf16 (JSON)
//   matmul <MxKxN[:t],...> [threads] [fp32|bf16]  GFLOP/s at the given shapes (":t" multiplies by the transposed right operand,
//                                     as x · Wᵀ does), as tools/reference/bench_gemm.py measures PyTorch (JSON)
//   encoder-ops [batch] [threads]    the ops of one ViT-B/16 block, fp32 and bf16, ms each (JSON), as tools/reference/bench_encoder_ops.py times PyTorch's
//   encoder-passes <world dir>        encoder passes of one experiment with the feature cache vs the official code paths
//   method-times <checkpoint> [classes] [shots] [epochs]   each method on a 16-shot task from cached features
//   methods-vs-official <cell> [threads] [clip-adapter epochs] [methods] [orders.json|-] [CLIP checkpoint for coop] [coop steps per epoch]
//                                     our Tip-Adapter-F, linear probe, CLIP-Adapter, CoOp on one cell, timed as tools/reference/bench_methods_official.py times the official code
//   baselines-vs-official <cell> <threads> <method> [CLIP checkpoint|-] [steps] [cross-modal iterations]
//                                     one of our taskres, clap, lp-plus-plus, gda, cross-modal, kgcoop, cocoop on one cell, timed as
//                                     tools/reference/bench_baselines_official.py times the official code
//   feature-cache [images] [dim] [workdir]   the feature cache's old one-file-per-entry layout vs packed segments
//   encoder-steps [vit-b16|tiny-vit] [k] [repeats] [modes] [methods]   encoder-tier step time and peak memory per mode (fp32,bf16,fp32-checkpoint,
//                                                            bf16-checkpoint; default fp32,bf16), projected protocol cost
TorchNativeLoader.EnsureLoaded();
return args.FirstOrDefault() switch
{
    "parity" => Parity(args[1]),
    "encoder" => Encoder(args[1], args.Length > 2 ? int.Parse(args[2]) : 32, args.Length > 3 ? int.Parse(args[3]) : 3),
    "matmul" => args.Length > 1 ? MatmulShapes(args[1], args.Length > 2 ? int.Parse(args[2]) : get_num_threads(), args.Length > 3 && args[3] == "bf16") : Matmul(),
    "encoder-passes" => EncoderPasses.Run(args[1]),
    "encoder-ops" => EncoderOps.Run(args.Length > 1 ? int.Parse(args[1]) : 32, args.Length > 2 ? int.Parse(args[2]) : get_num_threads()),
    "encoder-steps" => EncoderSteps.Run(args.Length > 1 ? args[1] : "vit-b16", args.Length > 2 ? int.Parse(args[2]) : 1, args.Length > 3 ? int.Parse(args[3]) : 2,
        args.Length > 4 ? args[4] : "fp32,bf16", args.Length > 5 ? args[5] : null),
    "feature-cache" => FeatureCacheLayouts.Run(args.Length > 3 ? args[3] : Path.Combine(Path.GetTempPath(), "peft-bench-cache"),
        args.Length > 1 ? int.Parse(args[1]) : 50_000, args.Length > 2 ? int.Parse(args[2]) : 512),
    "method-times" => MethodTimes.Run(args[1], args.Length > 2 ? int.Parse(args[2]) : 37, args.Length > 3 ? int.Parse(args[3]) : 16, args.Length > 4 ? int.Parse(args[4]) : 1),
    "methods-vs-official" => MethodsVsOfficial.Run(args[1], args.Length > 2 ? int.Parse(args[2]) : Environment.ProcessorCount,
        args.Length > 3 ? int.Parse(args[3]) : 10, args.Length > 4 ? args[4] : "tip-adapter-f,linear-probe,clip-adapter", args.Length > 5 && args[5] != "-" ? args[5] : null, args.Length > 6 ? args[6] : null,
        args.Length > 7 ? int.Parse(args[7]) : 0),
    "baselines-vs-official" => BaselinesVsOfficial.Run(args[1], int.Parse(args[2]), args[3], args.Length > 4 && args[4] != "-" ? args[4] : null,
        args.Length > 5 ? int.Parse(args[5]) : 2, args.Length > 6 ? int.Parse(args[6]) : 1280),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Peft.Benchmarks parity <dir> | encoder <checkpoint> [batch] [batches] | matmul");
    return 2;
}

static double RelativeError(Tensor a, Tensor b) => (a - b).norm().item<float>() / b.norm().item<float>();

static int Parity(string dir)
{
    foreach (var expectedFile in Directory.GetFiles(dir, "*.expected.safetensors").Order())
    {
        var stem = Path.GetFileName(expectedFile)[..^".expected.safetensors".Length];
        var checkpoint = new[] { ".pt", ".safetensors", "" }.Select(ext => Path.Combine(dir, stem + ext))
            .First(p => File.Exists(p) || Directory.Exists(p));
        using var scope = NewDisposeScope();
        var sw = Stopwatch.StartNew();
        using var loaded = ClipLoader.Load(checkpoint);
        double loadSeconds = sw.Elapsed.TotalSeconds;
        using var expected = SafeTensorsFile.Read(expectedFile);
        var image = loaded.Model.EncodeImage(expected["images"]);
        var text = loaded.Model.EncodeText(expected["tokens"]);
        Console.WriteLine($"{stem}: {loaded.Model.Config.Describe()} ({loaded.Format}, loaded in {loadSeconds:F1} s): " +
                          $"relative error image {RelativeError(image, expected["image_features"]):E2}, text {RelativeError(text, expected["text_features"]):E2}");
    }
    return 0;
}

static int Encoder(string checkpoint, int batch, int batches)
{
    using var loaded = ClipLoader.Load(checkpoint);
    var model = loaded.Model;
    int r = model.ImageResolution;
    var g = new Generator(0);
    using var images = randn([batch, 3, r, r], generator: g);
    var results = new Dictionary<string, double>();
    foreach (var type in new[] { ScalarType.Float32, ScalarType.BFloat16 })
    {
        model.UseComputeType(type);
        using (var warm = model.EncodeImage(images)) { }
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < batches; i++)
            using (var f = model.EncodeImage(images)) { }
        double ips = batch * batches / sw.Elapsed.TotalSeconds;
        results[type == ScalarType.Float32 ? "fp32" : "bf16"] = ips;
        Console.WriteLine($"{Path.GetFileName(checkpoint)} {type}: {ips:F2} img/s (batch {batch}, {batches} batches, {get_num_threads()} threads)");
    }
    Console.WriteLine(JsonSerializer.Serialize(results));
    return 0;
}

static int Matmul()
{
    const int n = 2048;
    var results = new Dictionary<string, double>();
    foreach (var type in new[] { ScalarType.Float32, ScalarType.BFloat16 })
    {
        var g = new Generator(1);
        using var a = randn([n, n], generator: g).to(type);
        using var b = randn([n, n], generator: g).to(type);
        using (var w = a.matmul(b)) { }
        const int reps = 5;
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < reps; i++) using (var c = a.matmul(b)) { }
        double gflops = 2.0 * n * n * n * reps / sw.Elapsed.TotalSeconds / 1e9;
        results[type == ScalarType.Float32 ? "fp32" : "bf16"] = gflops;
        Console.WriteLine($"matmul {n}^3 {type}: {gflops:F1} GFLOP/s");
    }
    Console.WriteLine(JsonSerializer.Serialize(results));
    return 0;
}

/// <summary>GFLOP/s (fp32 or bf16 operands) of A [M, K] · B [K, N] (or · Wᵀ with W [N, K] for ":t") at each shape: best of 5 timed runs of enough repeats for ≥ 50 ms.</summary>
static int MatmulShapes(string shapes, int threads, bool bf16)
{
    set_num_threads(threads);
    var results = new Dictionary<string, double>();
    var g = new Generator(1);
    foreach (var spec in shapes.Split(','))
    {
        bool transposed = spec.EndsWith(":t");
        var dims = spec.TrimEnd(':', 't').Split('x').Select(long.Parse).ToArray();
        if (dims.Length != 3) throw new ArgumentException($"matmul shape '{spec}': expected MxKxN or MxKxN:t");
        var (m, k, n) = (dims[0], dims[1], dims[2]);
        var type = bf16 ? ScalarType.BFloat16 : ScalarType.Float32;
        using var a = randn([m, k], generator: g).to(type);
        using var b = (transposed ? randn([n, k], generator: g) : randn([k, n], generator: g)).to(type);
        results[spec] = 2.0 * m * k * n / Timing.BestSeconds(() => transposed ? a.matmul(b.t()) : a.matmul(b)) / 1e9;
    }
    Console.WriteLine(JsonSerializer.Serialize(new { side = "ours", threads = get_num_threads(), dtype = bf16 ? "bf16" : "fp32", gflops = results }));
    return 0;
}
