#!/usr/bin/env bash
# Methods against their official code, same work, same machine, one run: Tip-Adapter-F (gaopengcuhk/Tip-Adapter
# main.py run_tip_adapter_F), CoOp's linear probe (lpclip/linear_probe.py, scikit-learn) and CLIP-Adapter
# (gaopengcuhk/CLIP-Adapter clip_adapter.py in Dassl's trainer) on Debian's PyTorch 1.13 against our plugins, on the
# same cell of features, with the same thread count. Prints per method ours, official and official/ours.
# What each side runs and times: tools/reference/bench_methods_official.py and tools/Peft.Benchmarks/MethodsVsOfficial.cs.
#
# Needs: apt install python3-torch python3-sklearn python3-numpy python3-yaml libopenblas0-pthread, and checkouts of
# gaopengcuhk/Tip-Adapter, KaiyangZhou/CoOp, gaopengcuhk/CLIP-Adapter and KaiyangZhou/Dassl.pytorch (a `git archive`
# extract works too; put its commit id in <dir>/COMMIT so that the output names it).
# Usage: tools/bench/methods-vs-official.sh <Tip-Adapter> <CoOp> <CLIP-Adapter> <Dassl.pytorch> [cell.safetensors]
#   Without a cell: a synthetic one, 100 classes x 16 shots, D = 1024 (RN50's width, which the released CLIP-Adapter
#   is written for), 10 views, 4 validation and 25 test images per class (written to $WORK once).
#   THREADS (default: nproc) threads on both sides; ROUNDS (default 1) alternating runs of the two sides, the best
#   (smallest) time of each is shown and all are listed; EPOCHS (default 10) CLIP-Adapter epochs timed;
#   METHODS (default tip-adapter-f,linear-probe,clip-adapter); WORK (default /tmp/peft-bench-methods).
#   COOP_CLASSES=37 (optional) also times CoOp's trainers/coop.py against our coop per step (COOP_STEPS, default 2,
#   after one untimed step; ours: an epoch of COOP_STEPS steps after a warm-up epoch of as many) with a random-weight ViT-B/16 text tower written
#   once to $WORK by CoOp's clip/model.py, on a synthetic COOP_CLASSES x 2-shot D = 512 cell (2 steps of 32 per epoch);
#   needs FTFY=<rspeer/python-ftfy checkout> and apt install python3-regex python3-wcwidth (CLIP's tokenizer).
#   BF16=1 (default; 0 to leave out) also times our Tip-Adapter-F, CLIP-Adapter and CoOp with the option precision: bf16
#   (bf16 products, fp32 master weights), shown as extra rows against the official fp32 run.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
tip="${1:?usage: $0 <Tip-Adapter> <CoOp> <CLIP-Adapter> <Dassl.pytorch> [cell]}"; coop="${2:?}"; ca="${3:?}"; dassl="${4:?}"
threads="${THREADS:-$(nproc --all)}"; rounds="${ROUNDS:-1}"; epochs="${EPOCHS:-10}"
methods="${METHODS:-tip-adapter-f,linear-probe,clip-adapter}"; work="${WORK:-/tmp/peft-bench-methods}"
ours_methods="$methods"; ours_coop="coop"
if [ "${BF16:-1}" = 1 ]; then
  for m in tip-adapter-f clip-adapter; do case ",$methods," in *",$m,"*) ours_methods="$ours_methods,$m-bf16";; esac; done
  ours_coop="coop,coop-bf16"
fi
mkdir -p "$work"
if ! dpkg-query -W -f='${Status}' libopenblas0-pthread 2>/dev/null | grep -q "install ok installed"; then
  echo "libopenblas0-pthread is not installed: Debian's PyTorch would run on the reference BLAS (~30x slower); apt install libopenblas0-pthread" >&2
  exit 1
fi
py=(/usr/bin/python3 "$root/tools/reference/bench_methods_official.py")
cell="${5:-$work/synthetic-100x16-d1024.safetensors}"
if [ -z "${5:-}" ] && [ ! -f "$cell" ]; then
  "${py[@]}" --make-cell "$cell" --classes 100 --shots 16 --dim 1024 --views 10 --test-per-class 25
fi
coop_classes="${COOP_CLASSES:-}"; coop_steps="${COOP_STEPS:-2}"
if [ -n "$coop_classes" ]; then
  ftfy="${FTFY:?COOP_CLASSES needs FTFY=<rspeer/python-ftfy checkout>}"
  vit="$work/vit-b16-random.pt"
  [ -f "$vit" ] || "${py[@]}" --make-vit-b16 "$vit" --coop "$coop" --ftfy "$ftfy" 2>/dev/null
  coop_cell="$work/coop-${coop_classes}x2-d512.safetensors"
  [ -f "$coop_cell" ] || "${py[@]}" --make-cell "$coop_cell" --classes "$coop_classes" --shots 2 --dim 512 --views 10 --test-per-class 1
fi
dotnet build "$root/tools/Peft.Benchmarks" -c Release -nologo -v quiet >/dev/null
bench="$root/tools/Peft.Benchmarks/bin/Release/net10.0/Peft.Benchmarks.dll"

export OPENBLAS_NUM_THREADS="$threads" OMP_NUM_THREADS="$threads"
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
: > "$work/official.jsonl"; : > "$work/ours.jsonl"; : > "$work/official-coop.jsonl"; : > "$work/ours-coop.jsonl"
for r in $(seq "$rounds"); do
  echo "round $r/$rounds: official ..." >&2
  "${py[@]}" --cell "$cell" --tip-adapter "$tip" --coop "$coop" --clip-adapter "$ca" --dassl "$dassl" --threads "$threads" \
    --clip-adapter-epochs "$epochs" --methods "$methods" --orders "$work/lp-orders.json" | tail -1 >> "$work/official.jsonl"
  echo "round $r/$rounds: ours ..." >&2
  dotnet "$bench" methods-vs-official "$cell" "$threads" "$epochs" "$ours_methods" "$work/lp-orders.json" | tail -1 >> "$work/ours.jsonl"
  if [ -n "$coop_classes" ]; then
    echo "round $r/$rounds: CoOp, official ..." >&2
    "${py[@]}" --cell "$coop_cell" --methods coop --coop "$coop" --dassl "$dassl" --ftfy "$ftfy" --clip "$vit" \
      --threads "$threads" --coop-steps "$coop_steps" 2>/dev/null | tail -1 >> "$work/official-coop.jsonl"
    echo "round $r/$rounds: CoOp, ours ..." >&2
    dotnet "$bench" methods-vs-official "$coop_cell" "$threads" "$epochs" "$ours_coop" - "$vit" "$coop_steps" | tail -1 >> "$work/ours-coop.jsonl"
  fi
done
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

# The GEMMs of Tip-Adapter-F's epoch at this cell's shapes (N keys, D, M test images; batch 256), both runtimes, same
# threads: the rate each side's BLAS reaches bounds the epoch time (it is most of the epoch's work).
shapes="$(python3 - "$cell" <<'PY'
import json, struct, sys
with open(sys.argv[1], "rb") as f:
    header = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))
n, d = header["train_features"]["shape"]; m = header["test_features"]["shape"][0]; c = header["text_embeddings"]["shape"][0]
print(f"256x{d}x{n}:t,{n}x256x{d},256x{n}x{c},{m}x{d}x{n}:t")
PY
)"
if [[ ",$methods," == *",tip-adapter-f,"* ]]; then
  /usr/bin/python3 "$root/tools/reference/bench_gemm.py" "$shapes" "$threads" > "$work/gemm-official.json"
  dotnet "$bench" matmul "$shapes" "$threads" | tail -1 > "$work/gemm-ours.json"
  dotnet "$bench" matmul "$shapes" "$threads" bf16 | tail -1 > "$work/gemm-ours-bf16.json"
else
  : > "$work/gemm-official.json"
fi

python3 - "$work/official.jsonl" "$work/ours.jsonl" "$cell" "$load_before" "$load_after" "$work/official-coop.jsonl" "$work/ours-coop.jsonl" "$work" <<'PY'
import json, os, sys
off = [json.loads(l) for l in open(sys.argv[1])]
ours = [json.loads(l) for l in open(sys.argv[2])]
cell, load_before, load_after = sys.argv[3:6]
off_coop = [json.loads(l) for l in open(sys.argv[6])]
ours_coop = [json.loads(l) for l in open(sys.argv[7])]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
print(f"cell: {cell}")
print(f"machine: {cpu}, {os.cpu_count()} cores; "
      f"load average before {load_before}, after {load_after}")
print(f"threads: official {off[0]['threads']}, ours {ours[0]['threads']}; rounds: {len(off)} (best of each side shown)")
print(f"official code: {json.dumps({**off[0]['official'], **(off_coop[0]['official'] if off_coop else {})})}")
print(f"official side: {json.dumps(off[0]['versions'])}; ours: TorchSharp {ours[0]['torchsharp']}")

def rows(m, ours_key=None, label=""):
    o = [r["methods"][m] for r in off]
    if ours_key is None:
        yield from rows(m, m)
        if m + "-bf16" in ours[0]["methods"]:
            yield from rows(m, m + "-bf16", " [ours bf16]")
        return
    u = [r["methods"][ours_key] for r in ours]
    if m == "tip-adapter-f":
        e = o[0]["epochs"]
        yield f"Tip-Adapter-F, {e} epochs + test eval, s/epoch{label}", [x["train_s"] / e for x in o], [x["train_s"] / x["epochs"] for x in u]
        yield f"Tip-Adapter-F, 200x20 alpha/beta search, s{label}", [x["search_s"] for x in o], [x["search_s"] for x in u]
        yield f"Tip-Adapter-F, whole fit, s{label}", [x["fit_s"] for x in o], [x["fit_s"] for x in u]
    elif m == "linear-probe":
        yield f"linear probe, C search ({o[0]['fits']} / {u[0]['fits']} lbfgs fits), s", [x["fit_s"] for x in o], [x["fit_s"] for x in u]
    elif m == "clip-adapter":
        yield f"CLIP-Adapter, s/epoch ({o[0]['epochs']} epochs, {o[0]['steps_per_epoch']} steps of {o[0]['batch']}){label}", \
            [x["train_s"] / x["epochs"] for x in o], [x["train_s"] / x["epochs"] for x in u]

print()
print(f"| {'what':<58} | {'ours':>9} | {'official':>9} | {'official/ours':>13} |")
print(f"|{'-' * 60}|{'-' * 11}|{'-' * 11}|{'-' * 15}|")
notes = []
table = [r for m in off[0]["methods"] for r in rows(m)]
if off_coop:
    c = off_coop[0]["methods"]["coop"]
    for key, label in (("coop", ""), ("coop-bf16", " [ours bf16]")):
        if key in ours_coop[0]["methods"]:
            table.append((f"CoOp, ViT-B/16 text tower, {c['classes']} classes, s/step (batch {c['batch']}){label}",
                          [sum(x["methods"]["coop"]["step_s"]) / len(x["methods"]["coop"]["step_s"]) for x in off_coop],
                          [x["methods"][key]["step_s"] for x in ours_coop]))
for name, o, u in table:
    print(f"| {name:<58} | {min(u):9.4f} | {min(o):9.4f} | {min(o) / min(u):12.2f}x |")
    if len(o) > 1:
        notes.append(f"{name}: ours {', '.join(f'{x:.4f}' for x in u)}; official {', '.join(f'{x:.4f}' for x in o)}")
for m in ("linear-probe",):
    if m in off[0]["methods"]:
        # C values equal to 1e-12 (relative): np.power can be one ulp off the exact power (see README)
        same = all(len(r["methods"][m]["searched_c"]) == len(off[0]["methods"][m]["searched_c"]) and
                   all(abs(a - b) <= 1e-12 * abs(b) for a, b in zip(r["methods"][m]["searched_c"], off[0]["methods"][m]["searched_c"]))
                   for r in ours)
        print(f"\nlinear probe: the same C path as the official search (to 1e-12): {'yes' if same else 'NO'} "
              f"(official lbfgs iterations {off[0]['methods'][m]['lbfgs_iterations']}, {off[0]['methods'][m]['at_max_iter']} fits at max_iter)")
if "tip-adapter-f" in off[0]["methods"]:
    print(f"Tip-Adapter-F chosen (beta, alpha): official {off[0]['methods']['tip-adapter-f']['beta_alpha']}, "
          f"ours {ours[0]['methods']['tip-adapter-f']['beta_alpha']}")
for n in notes:
    print("all rounds, " + n)
gemm = os.path.join(sys.argv[8], "gemm-official.json")
if os.path.getsize(gemm):
    o = json.load(open(gemm))["gflops"]
    u = json.load(open(os.path.join(sys.argv[8], "gemm-ours.json")))["gflops"]
    b = json.load(open(os.path.join(sys.argv[8], "gemm-ours-bf16.json")))["gflops"]
    print("\nGEMM rate at Tip-Adapter-F's shapes (MxKxN, :t = times a transposed weight), GFLOP/s: official PyTorch / ours fp32 / ours bf16")
    for shape in o:
        print(f"  {shape:<20} {o[shape]:7.1f} / {u[shape]:7.1f} / {b[shape]:7.1f}   ours fp32 at {u[shape] / o[shape]:.2f}x the official BLAS")
PY
