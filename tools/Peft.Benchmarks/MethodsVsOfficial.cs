using System.Text.Json;
using Peft.Clip.Loading;
using Peft.Core;
using static TorchSharp.torch;

/// <summary>
/// Our Tip-Adapter-F, linear probe and CLIP-Adapter plugins (created through the method catalog, as the host does) on
/// one cell of features, timed as <c>tools/reference/bench_methods_official.py</c> times the official code on the same
/// cell; <c>tools/bench/methods-vs-official.sh</c> prints both. The last line is JSON.
/// <list type="bullet">
/// <item>Tip-Adapter-F: 20 epochs with the official selection rules (<c>select: best-test</c>, <c>maxBestFinal</c>: a
/// test evaluation after every epoch, as main.py) and the 200 × 20 α/β search on the cell's validation features.
/// <c>train_s</c> = start to the last epoch's test evaluation, <c>search_s</c> = the rest.</item>
/// <item>Linear probe: the C search of lpclip on the rows in the order the official script drew them (read from
/// <c>orders</c>, written by the Python side).</item>
/// <item>CLIP-Adapter: <c>epochs</c> epochs, each timed from the previous epoch's end.</item>
/// <item>CoOp (with a CLIP checkpoint): one epoch of our <c>coop</c> (batch 32, 16 random context vectors) with that
/// checkpoint's text tower, per step; with <c>coopSteps</c>, an epoch of the first coopSteps × 32 training rows.</item>
/// </list>
/// A method named with "-bf16" (tip-adapter-f-bf16, clip-adapter-bf16, coop-bf16) is the same work with the option
/// <c>precision: bf16</c>.
/// The text side of the other methods is the cell's exported text embeddings (a lookup "text tower"), as the official side's stand-in.
/// Every method is warmed up once (Tip-Adapter-F with a 2 × 2 grid, the probe with one fit at C = 1, CLIP-Adapter with
/// one epoch) before it is timed.
/// </summary>
static class MethodsVsOfficial
{
    public static int Run(string cellPath, int threads, int clipAdapterEpochs, string methods, string? ordersPath, string? checkpoint = null,
        int coopSteps = 0)
    {
        set_num_threads(threads);
        using var cell = new BenchCell(cellPath);

        var results = new Dictionary<string, object>();
        var wanted = methods.Split(',');
        // "<method>-bf16": the same work with the option precision: bf16 (ours only; the official side runs fp32 on a CPU).
        foreach (var precision in new[] { "fp32", "bf16" })
        {
            string suffix = precision == "fp32" ? "" : "-" + precision;
            if (!wanted.Contains("tip-adapter-f" + suffix)) continue;
            var asPublished = new Dictionary<string, string?> { ["select"] = "best-test", ["maxBestFinal"] = "true", ["precision"] = precision };
            cell.Fit("tip-adapter-f", new(asPublished) { ["searchStep:0"] = "2", ["searchStep:1"] = "2" }, s => cell.Context(s, oracle: true));
            var (seconds, sink, _) = cell.Fit("tip-adapter-f", asPublished, s => cell.Context(s, oracle: true));
            double trained = sink.Times("tip-adapter-f/epoch_test_accuracy").Last();
            results["tip-adapter-f" + suffix] = new
            {
                epochs = sink.Times("tip-adapter-f/epoch_test_accuracy").Length, fit_s = seconds, train_s = trained, search_s = seconds - trained,
                beta_alpha = new[] { sink.Value("tip-adapter-f/beta"), sink.Value("tip-adapter-f/alpha") },
            };
        }
        if (wanted.Contains("linear-probe"))
        {
            long[]? trainOrder = null, valOrder = null;
            if (ordersPath is not null)
            {
                var orders = JsonDocument.Parse(File.ReadAllText(ordersPath)).RootElement;
                trainOrder = orders.GetProperty("train_order").EnumerateArray().Select(e => e.GetInt64()).ToArray();
                valOrder = orders.GetProperty("val_order").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            }
            cell.Fit("linear-probe", new() { ["c"] = "1" }, s => cell.Context(s, trainOrder, valOrder));
            var (seconds, sink, _) = cell.Fit("linear-probe", [], s => cell.Context(s, trainOrder, valOrder));
            var searched = sink.Values("search_c");
            results["linear-probe"] = new
            {
                fit_s = seconds, searched_c = searched, fits = searched.Distinct().Count(), chosen_c = sink.Value("chosen_c"),
                official_row_order = ordersPath is not null,
            };
        }
        foreach (var precision in new[] { "fp32", "bf16" })
        {
            string suffix = precision == "fp32" ? "" : "-" + precision;
            if (!wanted.Contains("clip-adapter" + suffix)) continue;
            cell.Fit("clip-adapter", new() { ["epochs"] = "1", ["precision"] = precision }, s => cell.Context(s));
            var (seconds, sink, _) = cell.Fit("clip-adapter", new() { ["epochs"] = clipAdapterEpochs.ToString(), ["precision"] = precision }, s => cell.Context(s));
            var ends = sink.Times("train/loss");
            var perEpoch = ends.Select((t, i) => t - (i == 0 ? 0 : ends[i - 1])).ToArray();
            results["clip-adapter" + suffix] = new { epochs = ends.Length, epoch_s = perEpoch, train_s = ends.Last(), fit_s = seconds };
        }
        if (wanted.Contains("coop") || wanted.Contains("coop-bf16"))
        {
            // CoOp needs a real text tower: the random-weight ViT-B/16 the Python side wrote (--make-vit-b16).
            using var clip = ClipLoader.Load(checkpoint ?? throw new ArgumentException("coop: give the CLIP checkpoint"));
            LoadedClip? bf16Tower = null;
            // coopSteps > 0: an epoch of that many steps (the first coopSteps × 32 training rows), as the official side times
            // that many steps: a step's cost is the text tower over every class, whatever the number of images.
            long n = coopSteps > 0 ? Math.Min(cell.TrainRows, coopSteps * 32L) : cell.TrainRows;
            AdaptationContext CoOpContext(TimingSink sink) => cell.TowerContext(sink, clip.Model, n,
                type => (bf16Tower ??= ClipLoader.Load(checkpoint, new ClipLoadOptions { ComputeType = type })).Model);
            foreach (var precision in new[] { "fp32", "bf16" })
            {
                string suffix = precision == "fp32" ? "" : "-" + precision;
                if (!wanted.Contains("coop" + suffix)) continue;
                var options = new Dictionary<string, string?> { ["epochs"] = "1", ["precision"] = precision };
                cell.Fit("coop", options, CoOpContext);
                var (seconds, sink, _) = cell.Fit("coop", options, CoOpContext);
                long steps = BenchCell.StepsPerEpoch(n, 32);   // CoOp's batch 32
                double epoch = sink.Times("train_loss").Single();
                results["coop" + suffix] = new { steps, epoch_s = epoch, step_s = epoch / steps, fit_s = seconds, classes = cell.Task.NumClasses };
            }
            bf16Tower?.Dispose();
        }
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            side = "ours", threads = get_num_threads(), cell = Path.GetFileName(cellPath), torchsharp = typeof(Tensor).Assembly.GetName().Version?.ToString(),
            methods = results,
        }));
        return 0;
    }
}
