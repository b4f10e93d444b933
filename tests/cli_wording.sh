#!/usr/bin/env bash
# One spelling of the network (the paper's: width multiplier with one or two decimals, then the
# resolution: 1.0-224, 0.25-32) in every command's lines, and counts in the right number
# ("1 epoch", "trained 1 step").
set -uo pipefail
MBN=${MBN:-build/mbn}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export MBN_CACHE_DIR="$T/cache"
fail=0
want() { # name text pattern
    if [[ "$2" == *"$3"* ]]; then echo "ok   $1: $3"; else echo "FAIL $1: no '$3' in: $2"; fail=1; fi
}
want "summary 1.0-224" "$("$MBN" summary | head -1)" "MobileNet V1 1.0-224, 1000 classes"
want "summary 0.5-160" "$("$MBN" summary --alpha 0.5 --resolution 160 | head -1)" "MobileNet V1 0.5-160,"
want "summary 0.25-32" "$("$MBN" summary --alpha 0.25 --resolution 32 | head -1)" "MobileNet V1 0.25-32,"
want "bench" "$("$MBN" bench --alpha 0.25 --resolution 32 --batch-size 1 --iterations 1 2>&1 >/dev/null)" \
    "(MobileNet V1 0.25-32, batch 1)"
python3 tests/make_tiny_idx.py "$T/data" 16 8
"$MBN" train --data "$T/data" --alpha 0.25 --resolution 32 --batch-size 16 --epochs 1 --no-eval \
    --ckpt-dir "$T/run" > "$T/out" 2> "$T/err"
want "train start" "$(cat "$T/err")" "MobileNet V1 0.25-32 (10 classes) on 1 in-process rank: 16 images, 1 step per epoch of 16 per rank, 1 epoch"
want "train end" "$(cat "$T/out")" "trained 1 step in "
"$MBN" export --checkpoint "$T/run/mobilenetv1-1_1.ckpt" --out "$T/w.safetensors" 2> "$T/err" >/dev/null
want "export" "$(cat "$T/err")" "wrote MobileNet V1 0.25-32 (10 classes,"
exit $fail
