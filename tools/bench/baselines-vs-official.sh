#!/usr/bin/env bash
# The 2023-24 baselines against their official code, same work, same machine, one run: TaskRes, CLAP, LP++, GDA and the
# cross-modal linear probe on a cell of features, KgCoOp and CoCoOp per step with a random-weight ViT-B/16 text tower —
# the official Python code on Debian's PyTorch 1.13 (tools/reference/bench_baselines_official.py, which runs what the
# parity fixtures run) against our plugins (tools/Peft.Benchmarks/BaselinesVsOfficial.cs), with the same thread count.
# Prints per method ours, official and official/ours, and both sides' test accuracy on the cell (the same work).
#
# Needs: apt install python3-torch python3-numpy python3-scipy python3-yaml python3-regex python3-wcwidth
# libopenblas0-pthread, and checkouts (a `git archive` extract works too; put its commit id in <dir>/COMMIT), given as
# environment variables; a method runs when its checkouts are given (METHODS=a,b,... to choose; a missing checkout
# is then an error):
#   TASKRES=geekyutao/TaskRes DASSL=KaiyangZhou/Dassl.pytorch           taskres
#   CLAP=jusiro/CLAP DASSL=...                                          clap
#   LPP=FereshteShakeri/FewShot-CLIP-Strong-Baseline                    lp-plus-plus
#   GDA=mrflogs/ICLR24                                                  gda
#   CROSSMODAL=linzhiqiu/cross_modal_adaptation                         cross-modal
#   KGCOOP=htyao89/KgCoOp COOP=KaiyangZhou/CoOp FTFY=rspeer/python-ftfy  kgcoop (COOP writes the random ViT-B/16)
#   COOP=... DASSL=... FTFY=...                                         cocoop
# Usage: [checkouts] tools/bench/baselines-vs-official.sh [cell.safetensors]
#   Without a cell: the synthetic cell of methods-vs-official.sh (100 classes x 16 shots, D = 1024, 10 views; written
#   to $WORK once). KgCoOp and CoCoOp run on a synthetic COOP_CLASSES (default 37) x 2-shot D = 512 cell.
#   THREADS (default: nproc) on both sides; ROUNDS (default 1) alternating runs, the best of each side shown;
#   STEPS (default 2) timed KgCoOp/CoCoOp steps; ITERS (default 1280) cross-modal iterations per grid point (the
#   published 12,800 / 10); WORK (default /tmp/peft-bench-methods, shared with methods-vs-official.sh).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
threads="${THREADS:-$(nproc --all)}"; rounds="${ROUNDS:-1}"; steps="${STEPS:-2}"; iters="${ITERS:-1280}"
work="${WORK:-/tmp/peft-bench-methods}"; coop_classes="${COOP_CLASSES:-37}"
mkdir -p "$work"
if ! dpkg-query -W -f='${Status}' libopenblas0-pthread 2>/dev/null | grep -q "install ok installed"; then
  echo "libopenblas0-pthread is not installed: Debian's PyTorch would run on the reference BLAS (~30x slower); apt install libopenblas0-pthread" >&2
  exit 1
fi

# method -> the checkout variables it needs, and the official script's arguments
declare -A needs=([taskres]="TASKRES DASSL" [clap]="CLAP DASSL" [lp-plus-plus]="LPP" [gda]="GDA" [cross-modal]="CROSSMODAL"
                  [kgcoop]="KGCOOP COOP FTFY" [cocoop]="COOP DASSL FTFY")
order="taskres clap lp-plus-plus gda cross-modal kgcoop cocoop"
if [ -n "${METHODS:-}" ]; then
  methods="${METHODS//,/ }"
  for m in $methods; do
    [ -n "${needs[$m]+x}" ] || { echo "unknown method '$m' (one of: $order)" >&2; exit 1; }
    for v in ${needs[$m]}; do [ -n "${!v:-}" ] || { echo "$m needs $v=<checkout>" >&2; exit 1; }; done
  done
else
  methods=""
  for m in $order; do
    ok=1; for v in ${needs[$m]}; do [ -n "${!v:-}" ] || ok=0; done
    [ "$ok" = 1 ] && methods="$methods $m"
  done
  [ -n "$methods" ] || { echo "no checkouts given: see the header of $0" >&2; exit 1; }
fi
for v in TASKRES CLAP LPP GDA CROSSMODAL KGCOOP COOP DASSL FTFY; do
  if [ -n "${!v:-}" ]; then [ -d "${!v}" ] || { echo "$v=${!v}: no such folder" >&2; exit 1; }; fi
done

ref="$root/tools/reference"
cell="${1:-$work/synthetic-100x16-d1024.safetensors}"
if [ -z "${1:-}" ] && [ ! -f "$cell" ]; then
  /usr/bin/python3 "$ref/bench_methods_official.py" --make-cell "$cell" --classes 100 --shots 16 --dim 1024 --views 10 --test-per-class 25
fi
[ -f "$cell" ] || { echo "$cell: no such cell" >&2; exit 1; }
vit="$work/vit-b16-random.pt"; coop_cell="$work/coop-${coop_classes}x2-d512.safetensors"
if [[ " $methods " == *" kgcoop "* || " $methods " == *" cocoop "* ]]; then
  [ -f "$vit" ] || /usr/bin/python3 "$ref/bench_methods_official.py" --make-vit-b16 "$vit" --coop "$COOP" --ftfy "$FTFY" 2>/dev/null
  [ -f "$coop_cell" ] || /usr/bin/python3 "$ref/bench_methods_official.py" --make-cell "$coop_cell" --classes "$coop_classes" --shots 2 --dim 512 --views 10 --test-per-class 1
fi
dotnet build "$root/tools/Peft.Benchmarks" -c Release -nologo -v quiet >/dev/null
bench="$root/tools/Peft.Benchmarks/bin/Release/net10.0/Peft.Benchmarks.dll"

export OPENBLAS_NUM_THREADS="$threads" OMP_NUM_THREADS="$threads"
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
: > "$work/baselines-official.jsonl"; : > "$work/baselines-ours.jsonl"
for r in $(seq "$rounds"); do
  for m in $methods; do
    case "$m" in
      taskres) off=(--repo "$TASKRES" --dassl "$DASSL") c="$cell" ;;
      clap) off=(--repo "$CLAP" --dassl "$DASSL") c="$cell" ;;
      lp-plus-plus) off=(--repo "$LPP") c="$cell" ;;
      gda) off=(--repo "$GDA") c="$cell" ;;
      cross-modal) off=(--repo "$CROSSMODAL" --iters "$iters") c="$cell" ;;
      kgcoop) off=(--repo "$KGCOOP" --ftfy "$FTFY" --clip "$vit" --steps "$steps") c="$coop_cell" ;;
      cocoop) off=(--repo "$COOP" --dassl "$DASSL" --ftfy "$FTFY" --clip "$vit" --steps "$steps") c="$coop_cell" ;;
    esac
    echo "round $r/$rounds: $m, official ..." >&2
    /usr/bin/python3 "$ref/bench_baselines_official.py" --method "$m" --cell "$c" --threads "$threads" "${off[@]}" 2>/dev/null \
      | tail -1 >> "$work/baselines-official.jsonl"
    echo "round $r/$rounds: $m, ours ..." >&2
    clip="-"; [[ "$m" == kgcoop || "$m" == cocoop ]] && clip="$vit"
    dotnet "$bench" baselines-vs-official "$c" "$threads" "$m" "$clip" "$steps" "$iters" | tail -1 >> "$work/baselines-ours.jsonl"
  done
done
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$work/baselines-official.jsonl" "$work/baselines-ours.jsonl" "$cell" "$coop_cell" "$load_before" "$load_after" <<'PY'
import json, os, sys
def read(path):
    runs = {}
    for line in open(path):
        r = json.loads(line)
        for m, v in r["methods"].items():
            runs.setdefault(m, []).append({**v, "_run": r})
    return runs
off, ours = read(sys.argv[1]), read(sys.argv[2])
cell, coop_cell, load_before, load_after = sys.argv[3:7]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
first = next(iter(off.values()))[0]["_run"]
print(f"cells: {cell}; KgCoOp/CoCoOp: {coop_cell} with a random-weight ViT-B/16 text tower")
print(f"machine: {cpu}, {os.cpu_count()} cores; load average before {load_before}, after {load_after}")
print(f"threads: official {first['threads']}, ours {next(iter(ours.values()))[0]['_run']['threads']}; "
      f"rounds: {len(next(iter(off.values())))} (best of each side shown)")
print(f"official side: {json.dumps(first['versions'])}; ours: TorchSharp {next(iter(ours.values()))[0]['_run']['torchsharp']}")
print("official code: " + json.dumps({k: v for m in off for k, v in off[m][0]["_run"]["official"].items()}))

def row(m, o, u):
    if m in ("kgcoop", "cocoop"):
        x = o[0]
        name = {"kgcoop": "KgCoOp", "cocoop": "CoCoOp"}[m]
        return (f"{name}, {x['classes']} classes, s/step (batch {x['batch']}, {x['context_length']} tokens)",
                [sum(r["step_s"]) / len(r["step_s"]) for r in o], [r["step_s"] for r in u])
    x = o[0]
    what = {"taskres": f"TaskRes, whole fit ({x.get('epochs')} epochs, {x.get('config')})",
            "clap": f"CLAP, whole fit ({x.get('epochs')} epochs of {x.get('batches_per_epoch')} steps)",
            "lp-plus-plus": f"LP++, whole fit ({x.get('epochs')} epochs)",
            "gda": f"GDA, whole fit ({x.get('views')} views, alpha search)",
            "cross-modal": f"cross-modal, {x.get('grid_points')} grid points x {x.get('iters')} iterations"}[m]
    return what + ", s", [r["fit_s"] for r in o], [r["fit_s"] for r in u]

print()
print(f"| {'what':<62} | {'ours':>9} | {'official':>9} | {'official/ours':>13} |")
print(f"|{'-' * 64}|{'-' * 11}|{'-' * 11}|{'-' * 15}|")
for m in off:
    name, o, u = row(m, off[m], ours[m])
    print(f"| {name:<62} | {min(u):9.4f} | {min(o):9.4f} | {min(o) / min(u):12.2f}x |")
print()
for m in off:
    if "test_accuracy" in off[m][0]:
        print(f"{m}: test accuracy on the cell, official {100 * off[m][0]['test_accuracy']:.2f}%, ours {100 * ours[m][0]['test_accuracy']:.2f}%")
    if len(off[m]) > 1:
        _, o, u = row(m, off[m], ours[m])
        print(f"{m}, all rounds: ours {', '.join(f'{x:.4f}' for x in u)}; official {', '.join(f'{x:.4f}' for x in o)}")
PY
