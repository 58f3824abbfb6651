#!/usr/bin/env bash
# bf16 training against fp32 (the methods' option "precision": bf16 products, fp32 master weights and optimiser state,
# fp32 evaluation): runs experiments/bf16-training.json (CoOp, CLIP-Adapter and Tip-Adapter-F, each as "<m>" and
# "<m>-bf16", on the quickstart's synthetic world, 1-16 shots x 3 seeds) into a fresh output and mlruns, then prints per
# method the fit time of both (sum over the cells, and the ratio) and the test accuracy of both, paired by cell (mean
# difference, its standard deviation, and how many cells bf16 won, tied, lost).
# Usage: tools/bench/bf16-training.sh [experiment.json]   THREADS (default: the runner's), WORK (default /tmp/peft-bench-bf16)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
experiment="${1:-$root/experiments/bf16-training.json}"
work="${WORK:-/tmp/peft-bench-bf16}"
rm -rf "$work/run" "$work/mlruns"; mkdir -p "$work"
threads=(); [ -n "${THREADS:-}" ] && threads=(--threads "$THREADS")
"$root/peft" run "$experiment" --set "output=$work/run" --set "tracking:uri=$work/mlruns" "${threads[@]}" >&2
csv="$(find "$work/run" -name results.csv | head -1)"
[ -n "$csv" ] || { echo "no results.csv under $work/run" >&2; exit 1; }
python3 - "$csv" <<'PY'
import csv, os, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
cells = {(r["dataset"], r["shots"], r["seed"], r["method"]): r for r in rows}
methods = sorted({r["method"] for r in rows if not r["method"].endswith("-bf16")})
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
print(f"results: {sys.argv[1]}\nmachine: {cpu}, {os.cpu_count()} cores; load average now {open('/proc/loadavg').read().split()[0:3]}")
print(f"{'method':<15}{'cells':>6}{'fit fp32 s':>12}{'fit bf16 s':>12}{'speed-up':>10}{'acc fp32':>10}{'acc bf16':>10}{'Δ mean':>9}{'Δ sd':>7}  bf16 won/tied/lost")
for m in methods:
    pairs = [(r, cells.get(k[:3] + (m + "-bf16",))) for k, r in cells.items() if k[3] == m]
    pairs = [(a, b) for a, b in pairs if b is not None]
    if not pairs:
        continue
    f32 = sum(float(a["fit_seconds"]) for a, _ in pairs); f16 = sum(float(b["fit_seconds"]) for _, b in pairs)
    acc32 = [float(a["test_top1"]) for a, _ in pairs]; acc16 = [float(b["test_top1"]) for _, b in pairs]   # percent
    d = [y - x for x, y in zip(acc32, acc16)]
    won, tied = sum(x > 0 for x in d), sum(x == 0 for x in d)
    print(f"{m:<15}{len(pairs):>6}{f32:>12.1f}{f16:>12.1f}{f32 / f16:>9.2f}x{statistics.mean(acc32):>10.2f}{statistics.mean(acc16):>10.2f}"
          f"{statistics.mean(d):>+9.2f}{statistics.stdev(d) if len(d) > 1 else 0:>7.2f}  {won}/{tied}/{len(d) - won - tied}")
PY
