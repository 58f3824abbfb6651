"""fp32 GFLOP/s of PyTorch's matmul at given shapes, measured as `Peft.Benchmarks matmul <shapes>` measures ours.

Usage: bench_gemm.py <MxKxN[:t],...> [threads]   (":t" multiplies by the transposed right operand, as x @ W.t() does)
Prints one JSON line. Run with Debian's /usr/bin/python3 (python3-torch, libopenblas0-pthread).
"""
import json
import sys
import time

import torch


def best_seconds(op):
    """The fastest of 5 timed runs of `op` (each run repeats it enough for >= 50 ms), in seconds per call."""
    op()
    reps = 1
    while True:
        start = time.perf_counter()
        for _ in range(reps):
            op()
        if time.perf_counter() - start >= 0.05:
            break
        reps *= 2
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(reps):
            op()
        best = min(best, (time.perf_counter() - start) / reps)
    return best


def gflops(spec, g):
    transposed = spec.endswith(":t")
    m, k, n = (int(d) for d in spec.rstrip(":t").split("x"))
    a = torch.randn(m, k, generator=g)
    b = torch.randn(n, k, generator=g) if transposed else torch.randn(k, n, generator=g)
    product = (lambda: a @ b.t()) if transposed else (lambda: a @ b)
    return 2.0 * m * k * n / best_seconds(product) / 1e9


def main():
    shapes = sys.argv[1].split(",")
    if len(sys.argv) > 2:
        torch.set_num_threads(int(sys.argv[2]))
    g = torch.Generator().manual_seed(1)
    print(json.dumps({"side": "pytorch", "version": torch.__version__, "threads": torch.get_num_threads(),
                      "gflops": {s: gflops(s, g) for s in shapes}}))


if __name__ == "__main__":
    main()
