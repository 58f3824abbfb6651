#!/usr/bin/env bash
# Image-encoder throughput: this project (TorchSharp, fp32 and bf16) against Debian's PyTorch fp32 (OpenBLAS),
# same random weights, batch 32, in one run. Prints img/s, ratios, and the share of the measured matmul peak.
#
# Needs: apt install python3-torch python3-numpy libopenblas0-pthread, and an openai/CLIP checkout:
#   git --git-dir=<openai/CLIP git dir> archive HEAD | tar x -C /tmp/clip-src
# Usage: tools/bench/encoder-throughput.sh /tmp/clip-src [workdir]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
clip_src="${1:?usage: $0 <openai/CLIP checkout> [workdir]}"
work="${2:-/tmp/peft-bench}"
mkdir -p "$work"
if [ ! -f "$work/vit_state_dict.pt" ] || [ ! -f "$work/rn_state_dict.pt" ]; then
  /usr/bin/python3 "$root/tools/reference/make_clip_fixtures.py" --clip-src "$clip_src" --out "$work" --full
fi
dotnet build "$root/tools/Peft.Benchmarks" -c Release -nologo -v quiet >/dev/null
bench="dotnet $root/tools/Peft.Benchmarks/bin/Release/net10.0/Peft.Benchmarks.dll"

# FLOPs per image (multiply-add = 2 FLOPs):
#   ViT-B/16 @224: 12 layers x (12 L D^2 + 2 L^2 D) + patch embedding, L = 197, D = 768           -> 35.1 GFLOP
#   RN50 (CLIP ModifiedResNet) @224: convolutions 5.37 GMAC (counted with forward hooks on the official
#   model: its stem and stride-1 3x3 convs before the avg-pools cost more than torchvision's ResNet-50)
#   + attention pool 0.43 GMAC                                                                     -> 11.6 GFLOP
declare -A gflop=([vit]=35.1 [rn]=11.6) names=([vit]="ViT-B/16" [rn]="RN50")
mm=$($bench matmul | tail -1)
printf "%-9s %10s %10s %10s %9s %9s %12s %12s\n" model torch-fp32 ours-fp32 ours-bf16 fp32-x bf16-x fp32-of-peak bf16-of-peak
for m in vit rn; do
  py=$(/usr/bin/python3 "$root/tools/reference/bench_encoder.py" --clip-src "$clip_src" --checkpoint "$work/${m}_state_dict.pt")
  cs=$($bench encoder "$work/${m}_state_dict.pt" 32 3 | tail -1)
  python3 - "$m" "${names[$m]}" "${gflop[$m]}" "$py" "$cs" "$mm" <<'PY'
import json, sys
m, name, gf, py, cs, mm = sys.argv[1], sys.argv[2], float(sys.argv[3]), json.loads(sys.argv[4]), json.loads(sys.argv[5]), json.loads(sys.argv[6])
t, f, b = py["fp32"], cs["fp32"], cs["bf16"]
print(f"{name:<9} {t:10.2f} {f:10.2f} {b:10.2f} {f/t:8.2f}x {b/t:8.2f}x {f*gf/mm['fp32']:11.0%} {b*gf/mm['bf16']:11.0%}")
PY
done
echo "matmul peak (2048^3): ours fp32 $(python3 -c "import json;print(round(json.loads('$mm')['fp32']))") GFLOP/s, bf16 $(python3 -c "import json;print(round(json.loads('$mm')['bf16']))") GFLOP/s"
