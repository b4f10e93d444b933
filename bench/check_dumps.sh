#!/bin/bash
# Before/after check for kernel changes: `bench/check_dumps.sh ref` records logits and losses
# (MBN_BENCH_DUMP) for a few configurations with the current build; `bench/check_dumps.sh`
# compares the current build against them (differences must stay at float rounding level).
set -e
MBN=${MBN:-./build/mbn}
DIR=${DUMP_DIR:-/tmp/mbn_dumps}
mkdir -p "$DIR"
tag=${1:-new}
status=0
for cfg in "1.0 224 4" "0.75 160 3" "0.25 96 3" "0.3 64 2"; do
    set -- $cfg
    for mode in infer train; do
        f="$DIR/${tag}_${mode}_$1_$2.txt"
        MBN_BENCH_DUMP="$f" "$MBN" bench --alpha "$1" --resolution "$2" --batch-size "$3" \
            --mode $mode --iterations 2 >/dev/null 2>&1
        if [ "$tag" != ref ]; then
            printf '%-6s alpha %-4s res %-3s: ' $mode "$1" "$2"
            python3 "$(dirname "$0")/compare_dumps.py" "$DIR/ref_${mode}_$1_$2.txt" "$f" 1e-4 || status=1
        fi
    done
done
exit $status
