#!/usr/bin/env bash
# The per-op harness (build/bench/op_bench) runs every op's rows that this device can run, on
# small shapes that take each row's fast path and its fallback, and checks each result against
# the plain-C references itself: its exit status is 1 when any variant is off its bound or
# fails, and it must print one timed line per (variant, shape). Guards the harness that new
# kernels are tried with (it once fed the cpu GEMM unpacked weights and failed every shape).
set -euo pipefail
MBN=${MBN:-build/mbn}
OP_BENCH=${OP_BENCH:-$(dirname "$MBN")/bench/op_bench}
[ -x "$OP_BENCH" ] || { echo "SKIP: $OP_BENCH not built"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
unset MBN_KERNELS

source bench/op_shapes.sh # MBN_OP_SHAPES, MBN_OPS
total=0
for op in $MBN_OPS; do
    args=()
    for s in ${MBN_OP_SHAPES[$op]}; do args+=(--shape "$s"); done
    status=0
    "$OP_BENCH" "$op" "${args[@]}" --iterations 1 >"$T/$op.txt" 2>&1 || status=$?
    if [ "$status" != 0 ]; then
        cat "$T/$op.txt"
        echo "FAIL: op_bench $op exited $status"
        exit 1
    fi
    # one line per (row, shape) with a time; no error, FAIL or skipped line
    if grep -E "error|FAIL|skipped" "$T/$op.txt"; then
        echo "FAIL: op_bench $op reported a failure"
        exit 1
    fi
    # (rows from the result lines only: a warning on stderr, e.g. PoCL's, is not a row)
    result='^[0-9,]+ +[a-z_]+\.[a-z0-9_]+'
    lines=$(grep -cE "$result" "$T/$op.txt" || true)
    rows=$(grep -E "$result" "$T/$op.txt" | awk '{print $2}' | sed 's/(.*//' | sort -u | wc -l)
    want=$((rows * $(echo ${MBN_OP_SHAPES[$op]} | wc -w)))
    if [ "$rows" -lt 1 ] || [ "$lines" != "$want" ]; then
        cat "$T/$op.txt"
        echo "FAIL: op_bench $op printed $lines result lines, expected $want ($rows rows)"
        exit 1
    fi
    echo "ok   op_bench $op: $rows rows x $(echo ${MBN_OP_SHAPES[$op]} | wc -w) shapes within their bounds"
    total=$((total + lines))
done
echo "ok   $total checked results"
