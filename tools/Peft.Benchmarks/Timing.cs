using System.Diagnostics;
using static TorchSharp.torch;

static class Timing
{
    /// <summary>
    /// The fastest of 5 timed runs of <paramref name="op"/> (each repeating it enough for ≥ 50 ms), in seconds per call,
    /// after one untimed call; every tensor a call creates (its result and any intermediate) is disposed when the call
    /// returns, as PyTorch frees them by reference count: an intermediate left to the garbage collector keeps its memory
    /// and makes the next call page-fault fresh memory (a three-op QuickGELU measured 80 ms instead of 2.3 that way).
    /// tools/reference/bench_gemm.py best_seconds times PyTorch the same way.
    /// </summary>
    public static double BestSeconds(Func<Tensor> op)
    {
        using (NewDisposeScope()) op();
        int reps = 1;
        while (true)
        {
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < reps; i++) using (NewDisposeScope()) op();
            if (sw.Elapsed.TotalSeconds >= 0.05) break;
            reps *= 2;
        }
        double best = double.MaxValue;
        for (int round = 0; round < 5; round++)
        {
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < reps; i++) using (NewDisposeScope()) op();
            best = Math.Min(best, sw.Elapsed.TotalSeconds / reps);
        }
        return best;
    }
}
