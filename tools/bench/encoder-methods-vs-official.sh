#!/usr/bin/env bash
# The encoder-level methods (PEFT inside the towers) against their official code, one training step, same work, same
# machine, one run: MaPLe and VPT (muzairkhattak/multimodal-prompt-learning), CLIP-LoRA (MaxZanella/CLIP-LoRA) and
# BitFit as 2SFS's first stage (KilianLP/CoOpLoraSquared-) on
# Debian's PyTorch 1.13 (tools/reference/bench_encoder_methods_official.py) against ours (Peft.Benchmarks encoder-steps):
# a random-weight ViT-B/16, batch 32 random images at 224 px, 10 classes on the text side, fp32 (ours also bf16), the
# same thread count. Prints s/step per method, both sides, and official/ours.
#
# Needs: apt install python3-torch python3-regex python3-wcwidth libopenblas0-pthread, and checkouts (a `git archive`
# extract works too; put its commit id in <dir>/COMMIT):
#   MAPLE=muzairkhattak/multimodal-prompt-learning (maple, vpt)  CLIP_LORA=MaxZanella/CLIP-LoRA (clip-lora)
#   TWOSFS=KilianLP/CoOpLoraSquared- (bitfit)
#   FTFY=rspeer/python-ftfy, and COOP=KaiyangZhou/CoOp once, to write the random-weight ViT-B/16 (shared with
#   methods-vs-official.sh in $WORK)
# Usage: [checkouts] tools/bench/encoder-methods-vs-official.sh
#   METHODS (default: those whose checkout is given, of maple,vpt,clip-lora,bitfit); THREADS (default nproc); STEPS (default 2)
#   timed official steps after an untimed one (ours: a fit of 2 steps minus a fit of 1, after a warm-up fit);
#   BF16=1 (default; 0 to leave out) also times ours with the backbone in bf16; WORK (default /tmp/peft-bench-methods).
#   One ViT-B/16 step at batch 32 takes 10-60 s on a 2-core machine: the whole run takes 10-20 minutes.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
threads="${THREADS:-$(nproc --all)}"; steps="${STEPS:-2}"; work="${WORK:-/tmp/peft-bench-methods}"
ftfy="${FTFY:?FTFY=<rspeer/python-ftfy checkout>: the CLIP tokenizer imports it}"
mkdir -p "$work"
if ! dpkg-query -W -f='${Status}' libopenblas0-pthread 2>/dev/null | grep -q "install ok installed"; then
  echo "libopenblas0-pthread is not installed: Debian's PyTorch would run on the reference BLAS (~30x slower); apt install libopenblas0-pthread" >&2
  exit 1
fi
if [ -n "${METHODS:-}" ]; then methods="${METHODS//,/ }"; else
  methods=""; [ -n "${MAPLE:-}" ] && methods="maple vpt"; [ -n "${CLIP_LORA:-}" ] && methods="$methods clip-lora"
  [ -n "${TWOSFS:-}" ] && methods="$methods bitfit"
fi
[ -n "${methods// /}" ] || { echo "no checkouts given: MAPLE=<multimodal-prompt-learning>, CLIP_LORA=<CLIP-LoRA>, TWOSFS=<CoOpLoraSquared->" >&2; exit 1; }
for m in $methods; do
  case "$m" in
    maple|vpt) [ -d "${MAPLE:-}" ] || { echo "$m needs MAPLE=<multimodal-prompt-learning checkout>" >&2; exit 1; } ;;
    clip-lora) [ -d "${CLIP_LORA:-}" ] || { echo "$m needs CLIP_LORA=<CLIP-LoRA checkout>" >&2; exit 1; } ;;
    bitfit) [ -d "${TWOSFS:-}" ] || { echo "$m needs TWOSFS=<KilianLP/CoOpLoraSquared- checkout>" >&2; exit 1; } ;;
    *) echo "unknown method '$m' (maple, vpt, clip-lora, bitfit)" >&2; exit 1 ;;
  esac
done
ref="$root/tools/reference"
vit="$work/vit-b16-random.pt"
if [ ! -f "$vit" ]; then
  [ -d "${COOP:-}" ] || { echo "$vit is not there yet: give COOP=<KaiyangZhou/CoOp checkout> once to write it" >&2; exit 1; }
  /usr/bin/python3 "$ref/bench_methods_official.py" --make-vit-b16 "$vit" --coop "$COOP" --ftfy "$ftfy" 2>/dev/null
fi
dotnet build "$root/tools/Peft.Benchmarks" -c Release -nologo -v quiet >/dev/null
bench="$root/tools/Peft.Benchmarks/bin/Release/net10.0/Peft.Benchmarks.dll"

export OPENBLAS_NUM_THREADS="$threads" OMP_NUM_THREADS="$threads"
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
: > "$work/encoder-official.jsonl"
for m in $methods; do
  case "$m" in clip-lora) repo="$CLIP_LORA" ;; bitfit) repo="$TWOSFS" ;; *) repo="$MAPLE" ;; esac
  echo "$m, official ..." >&2
  /usr/bin/python3 "$ref/bench_encoder_methods_official.py" --method "$m" --repo "$repo" --ftfy "$ftfy" --clip "$vit" \
    --threads "$threads" --steps "$steps" 2>/dev/null | tail -1 >> "$work/encoder-official.jsonl"
done
modes="fp32"; [ "${BF16:-1}" = 1 ] && modes="fp32,bf16"
echo "ours ..." >&2
OMP_NUM_THREADS="$threads" dotnet "$bench" encoder-steps vit-b16 1 1 "$modes" "$(echo $methods | tr ' ' ',')" | tail -1 > "$work/encoder-ours.json"
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$work/encoder-official.jsonl" "$work/encoder-ours.json" "$load_before" "$load_after" <<'PY'
import json, os, sys
off = [json.loads(l) for l in open(sys.argv[1])]
ours = json.load(open(sys.argv[2]))
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
print(f"random-weight ViT-B/16, batch {ours['batch']} at 224 px, 10 classes; machine: {cpu}, {os.cpu_count()} cores; "
      f"load average before {sys.argv[3]}, after {sys.argv[4]}")
print(f"threads: official {off[0]['threads']}, ours {ours['threads']}; official PyTorch {off[0]['torch']}")
print("official code: " + ", ".join(f"{o['method']} {o['official'][:8]}" for o in off))
print()
print(f"| {'method':<10} | {'official s/step':>15} | {'ours fp32':>9} | {'ratio':>7} | {'ours bf16':>9} | {'ratio':>7} |")
print(f"|{'-' * 12}|{'-' * 17}|{'-' * 11}|{'-' * 9}|{'-' * 11}|{'-' * 9}|")
for o in off:
    m = o["method"]
    best = min(o["step_s"])
    u = ours["step_s"].get(m, {})
    cells = []
    for mode in ("fp32", "bf16"):
        if mode in u and u[mode] > 0:
            cells += [f"{u[mode]:9.2f}", f"{best / u[mode]:6.2f}x"]
        else:
            cells += [f"{'-':>9}", f"{'-':>7}"]
    print(f"| {m:<10} | {best:15.2f} | {cells[0]} | {cells[1]} | {cells[2]} | {cells[3]} |")
print("\nofficial steps: " + "; ".join(f"{o['method']} {', '.join(f'{x:.2f}' for x in o['step_s'])} s" for o in off))
PY
