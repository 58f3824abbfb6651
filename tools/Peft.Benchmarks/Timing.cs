using System.Diagnostics;
using static TorchSharp.torch;

static class Timing
{
    /// <summary>
    /// The fastest of 5 timed runs of <paramref name="op"/> (each repeating it enough for ≥ 50 ms), in seconds per call,
    /// after one untimed call; every result is disposed at once. tools/reference/bench_gemm.py best_seconds times PyTorch the same way.
    /// </summary>
    public static double BestSeconds(Func<Tensor> op)
    {
        using (var warm = op()) { }
        int reps = 1;
        while (true)
        {
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < reps; i++) using (var y = op()) { }
            if (sw.Elapsed.TotalSeconds >= 0.05) break;
            reps *= 2;
        }
        double best = double.MaxValue;
        for (int round = 0; round < 5; round++)
        {
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < reps; i++) using (var y = op()) { }
            best = Math.Min(best, sw.Elapsed.TotalSeconds / reps);
        }
        return best;
    }
}
