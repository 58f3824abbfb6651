#!/usr/bin/env bash
# The feature cache's layouts side by side on a synthetic split (default 50,000 images of 512 floats, ViT-B's
# embedding width): the old one file per (image, view) against packed segments. Prints write time, read time of the
# split and of a 1,000-image subset (each by a new reader), file count, disk use and the ratios.
# Usage: tools/bench/feature-cache.sh [images] [dim] [workdir on the file system to measure]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
dotnet build "$root/tools/Peft.Benchmarks" -c Release -nologo -v quiet >/dev/null
exec dotnet "$root/tools/Peft.Benchmarks/bin/Release/net10.0/Peft.Benchmarks.dll" feature-cache "${1:-50000}" "${2:-512}" "${3:-/tmp/peft-bench-cache}"
