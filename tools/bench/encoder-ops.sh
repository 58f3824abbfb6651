#!/usr/bin/env bash
# Where the image encoder's time goes: the operations of one ViT-B/16 transformer block (batch 32 x 197 tokens x 768)
# timed one by one in this project (TorchSharp, fp32 and bf16) and in Debian's PyTorch 1.13 fp32 (OpenBLAS), same
# threads, in one run. Prints per op: milliseconds, times per block, share of the block, PyTorch/ours ratio, and the
# GEMMs' GFLOP/s against the measured 2048^3 matmul peak of each side.
# Needs: apt install python3-torch python3-numpy libopenblas0-pthread.
# Usage: tools/bench/encoder-ops.sh [batch] [threads]   (defaults 32, nproc)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
batch="${1:-32}"; threads="${2:-$(nproc --all)}"
dotnet build "$root/tools/Peft.Benchmarks" -c Release -nologo -v quiet >/dev/null
bench="dotnet $root/tools/Peft.Benchmarks/bin/Release/net10.0/Peft.Benchmarks.dll"
export OPENBLAS_NUM_THREADS="$threads" OMP_NUM_THREADS="$threads"
py=$(/usr/bin/python3 "$root/tools/reference/bench_encoder_ops.py" "$batch" "$threads")
ours=$($bench encoder-ops "$batch" "$threads" | tail -1)
peak_py=$(/usr/bin/python3 "$root/tools/reference/bench_gemm.py" 2048x2048x2048 "$threads")
peak_ours=$($bench matmul 2048x2048x2048 "$threads" | tail -1)
peak_bf16=$($bench matmul 2048x2048x2048 "$threads" bf16 | tail -1)
python3 - "$py" "$ours" "$peak_py" "$peak_ours" "$peak_bf16" "$batch" <<'PY'
import json, os, sys
py, ours, peak_py, peak_ours, peak_bf16 = (json.loads(a) for a in sys.argv[1:6])
batch = int(sys.argv[6]); tokens = batch * 197
peak = {"pytorch": peak_py["gflops"]["2048x2048x2048"], "fp32": peak_ours["gflops"]["2048x2048x2048"], "bf16": peak_bf16["gflops"]["2048x2048x2048"]}
count = {"layer_norm": 2, "residual add": 2}
flops = {"qkv 768->2304": 2 * tokens * 768 * 2304, "out_proj 768->768": 2 * tokens * 768 * 768,
         "c_fc 768->3072": 2 * tokens * 768 * 3072, "c_proj 3072->768": 2 * tokens * 3072 * 768,
         "attention": 2 * 2 * batch * 12 * 197 * 197 * 64}
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
print(f"machine: {cpu}, {os.cpu_count()} cores, {ours['threads']} threads each; batch {batch}; PyTorch {py['version']}")
print(f"matmul 2048^3 peak, GFLOP/s: PyTorch fp32 {peak['pytorch']:.0f}, ours fp32 {peak['fp32']:.0f}, ours bf16 {peak['bf16']:.0f}")
p, f, b = py["ms"]["fp32"], ours["ms"]["fp32"], ours["ms"]["bf16"]
block = {side: sum(t[o] * count.get(o, 1) for o in t) for side, t in (("p", p), ("f", f), ("b", b))}
print(f"| {'op (x per block)':<24} | {'PyTorch ms':>10} | {'ours fp32':>9} | {'ours bf16':>9} | {'share (ours fp32)':>17} | {'fp32 ratio':>10} | {'bf16 ratio':>10} | {'GFLOP/s PyTorch / fp32 / bf16 (% of peak)':<44} |")
print("|" + "|".join("-" * (w + 2) for w in (24, 10, 9, 9, 17, 10, 10, 44)) + "|")
for op in p:
    n = count.get(op, 1)
    rate = ""
    if op in flops:
        g = [flops[op] / t[op] / 1e6 for t in (p, f, b)]
        rate = f"{g[0]:.0f} / {g[1]:.0f} / {g[2]:.0f} ({100 * g[0] / peak['pytorch']:.0f} / {100 * g[1] / peak['fp32']:.0f} / {100 * g[2] / peak['bf16']:.0f}%)"
    print(f"| {op + f' (x{n})':<24} | {p[op]:>10.2f} | {f[op]:>9.2f} | {b[op]:>9.2f} | {100 * f[op] * n / block['f']:>16.1f}% | {p[op] / f[op]:>9.2f}x | {p[op] / b[op]:>9.2f}x | {rate:<44} |")
print(f"| {'block':<24} | {block['p']:>10.2f} | {block['f']:>9.2f} | {block['b']:>9.2f} | {100:>16.1f}% | {block['p'] / block['f']:>9.2f}x | {block['p'] / block['b']:>9.2f}x | {'':<44} |")
PY
