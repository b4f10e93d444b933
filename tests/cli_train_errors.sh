#!/usr/bin/env bash
# Bad training command lines and data folders: exit 2 (usage) or 1 (failure), one clear line.
set -uo pipefail
MBN=${MBN:-build/mbn}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/empty"
fail=0
expect() { # status substring args...
    local want=$1 sub=$2
    shift 2
    local err status first
    err=$("$MBN" train "$@" 2>&1 >/dev/null)
    status=$?
    first=$(printf '%s\n' "$err" | grep -m1 "mbn: error:" || true)
    if [ "$status" != "$want" ] || [[ "$first" != *"$sub"* ]]; then
        echo "FAIL: train $* -> $status: $err (want $want and '$sub')"
        fail=1
    else
        echo "ok   train $* -> $status: $first"
    fi
}
D=(--data /usr/share/datasets/fashion-mnist --ckpt-dir "$T/ck")
expect 2 "--epochs" "${D[@]}" --epochs 0
expect 2 "--max-lr" "${D[@]}" --max-lr -0.1
expect 2 "--max-lr" "${D[@]}" --max-lr fast
expect 2 "--batch-size" "${D[@]}" --batch-size 0
expect 2 "--lr-schedule" "${D[@]}" --lr-schedule linear
expect 2 "--milestones" "${D[@]}" --lr-schedule piecewise --milestones 100,50 --learning-rates 0.1,0.01
expect 2 "--learning-rates" "${D[@]}" --lr-schedule piecewise --milestones 100,200 --learning-rates 0.1
expect 2 "--milestones" "${D[@]}" --lr-schedule piecewise --learning-rates 0.1
expect 2 "--label-smoothing" "${D[@]}" --label-smoothing 1.5
expect 2 "--data" --epochs 1
expect 2 "$T/missing" --data "$T/missing" --ckpt-dir "$T/ck"
expect 1 "$T/empty" --data "$T/empty" --ckpt-dir "$T/ck"
expect 2 "--alpha" "${D[@]}" --alpha 0
expect 2 "--resolution" "${D[@]}" --resolution 16
expect 2 "--comm-timeout 0: must be > 0 seconds" "${D[@]}" --comm-timeout 0
expect 2 "--bucket-mb -1: must be in 0..4096" "${D[@]}" --bucket-mb -1
# A diverging run stops with an error naming the step; no checkpoint of the broken weights.
python3 tests/make_tiny_idx.py "$T/fashion-mnist" 256 64
expect 1 "the loss is" --data "$T/fashion-mnist" --alpha 0.25 --resolution 32 --batch-size 32 \
    --epochs 1 --no-eval --max-lr 3e38 --ckpt-dir "$T/nan"
if ls "$T/nan"/*.ckpt >/dev/null 2>&1; then echo "FAIL: checkpoint written after NaN"; fail=1; fi
exit $fail
