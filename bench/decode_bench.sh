#!/usr/bin/env bash
# Decode + augment images/s per core: mbn (TurboJPEG + DCT scaling + bilinear) vs PIL/torchvision,
# on the same photo-like 500x375 JPEGs. Not a test. Needs python3-pil, python3-numpy,
# python3-torchvision (Debian). Usage: bench/decode_bench.sh [BUILD_DIR] [N_IMAGES] [PASSES]
set -euo pipefail
build=${1:-build}
n=${2:-200}
passes=${3:-3}
py=/usr/bin/python3
work=$(mktemp -d /tmp/mbn_decode_bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
$py "$(dirname "$0")/gen_photos.py" "$work" "$n"
dir=$work/train/synthetic
echo "images: $n x $(du -sk "$dir" | cut -f1) kB total; CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
"$build/decode_bench" "$dir" "$passes" "$work"
$py "$(dirname "$0")/torchvision_bench.py" "$dir" "$passes"
