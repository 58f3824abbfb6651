using System.Text.Json;
using Peft.Clip.Loading;
using Peft.Core;
using static TorchSharp.torch;

/// <summary>
/// Our plugins of the 2023-24 baselines on one cell, timed as <c>tools/reference/bench_baselines_official.py</c> times
/// the official code on the same cell; <c>tools/bench/baselines-vs-official.sh</c> prints both. One method per call;
/// the last line is JSON.
/// <list type="bullet">
/// <item>taskres, clap, lp-plus-plus, gda: the whole fit with the published defaults (CLAP and GDA with the cell's number
/// of augmented views, as the official side), after one warm-up fit of one epoch (GDA: one whole fit).</item>
/// <item>cross-modal: the whole grid with <c>iters</c> iterations per point, after a warm-up grid of 100.</item>
/// <item>kgcoop, cocoop (with the CLIP checkpoint of <c>--make-vit-b16</c>): time per step of the second epoch of a
/// fit on the first steps × batch training rows (the first epoch is the warm-up and pays the setup, e.g. KgCoOp's
/// hand-crafted text features, which the official side computes in build_model, untimed).</item>
/// </list>
/// </summary>
static class BaselinesVsOfficial
{
    public static int Run(string cellPath, int threads, string method, string? checkpoint, int steps, int iters)
    {
        set_num_threads(threads);
        using var cell = new BenchCell(cellPath);
        object result;
        switch (method)
        {
            case "taskres" or "clap" or "lp-plus-plus" or "gda":
            {
                var options = new Dictionary<string, string?>();
                if (method is "clap" or "gda") options["augmentViews"] = cell.Views.ToString();
                var warmUp = new Dictionary<string, string?>(options);
                if (method != "gda") warmUp["epochs"] = "1";
                cell.Fit(method, warmUp, s => cell.Context(s));
                var (seconds, sink, accuracy) = cell.Fit(method, options, s => cell.Context(s), accuracy: true);
                result = new { fit_s = seconds, epochs = EpochsLogged(sink), test_accuracy = accuracy };
                break;
            }
            case "cross-modal":
            {
                cell.Fit(method, new() { ["iterations"] = "100" }, s => cell.Context(s));
                var (seconds, sink, accuracy) = cell.Fit(method, new() { ["iterations"] = iters.ToString() }, s => cell.Context(s), accuracy: true);
                result = new { fit_s = seconds, iters, grid_points = sink.Values("grid/val_accuracy").Length, test_accuracy = accuracy };
                break;
            }
            case "kgcoop" or "cocoop":
                result = PromptSteps(cell, method, checkpoint ?? throw new ArgumentException($"{method}: give the CLIP checkpoint"), steps);
                break;
            default:
                throw new ArgumentException($"unknown method '{method}' (taskres, clap, lp-plus-plus, gda, cross-modal, kgcoop, cocoop)");
        }
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            side = "ours", threads = get_num_threads(), cell = Path.GetFileName(cellPath), torchsharp = typeof(Tensor).Assembly.GetName().Version?.ToString(),
            methods = new Dictionary<string, object> { [method] = result },
        }));
        return 0;
    }

    /// <summary>Epochs a method logged a training loss for (TaskRes, CLAP, LP++: "train/loss").</summary>
    static int EpochsLogged(TimingSink sink) => sink.Times("train/loss").Length;

    static object PromptSteps(BenchCell cell, string method, string checkpoint, int steps)
    {
        using var clip = ClipLoader.Load(checkpoint);
        int batch = method == "kgcoop" ? 128 : 1;   // KgCoOp rn50_ep100.yaml, CoCoOp vit_b16_c4_ep10_batch1 (the plugins' defaults)
        long rows = Math.Min(cell.TrainRows, (long)steps * batch);
        long perEpoch = BenchCell.StepsPerEpoch(rows, batch);
        int epochs = 1 + (int)Math.Ceiling(steps / (double)perEpoch);
        var (seconds, sink, _) = cell.Fit(method, new() { ["epochs"] = epochs.ToString() }, s => cell.TowerContext(s, clip.Model, rows));
        var ends = sink.Times("train_loss");
        long timed = (ends.Length - 1) * perEpoch;
        return new { steps = timed, step_s = (ends[^1] - ends[0]) / timed, rows, batch, fit_s = seconds, classes = cell.Task.NumClasses };
    }
}
