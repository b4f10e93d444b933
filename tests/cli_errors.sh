#!/usr/bin/env bash
# Bad command lines exit 2 with one "mbn: error:" line naming the flag, and the usage line.
set -uo pipefail
MBN=${MBN:-build/mbn}
fail=0
expect() { # want_status want_substring args...
    local want=$1 sub=$2
    shift 2
    local err status
    err=$("$MBN" "$@" 2>&1 >/dev/null)
    status=$?
    local first
    first=$(printf '%s\n' "$err" | head -1)
    if [ "$status" != "$want" ] || [[ "$first" != "mbn: error: "* ]] || [[ "$first" != *"$sub"* ]]; then
        echo "FAIL: mbn $* -> status $status, stderr: $err (want $want and '$sub')"
        fail=1
    else
        echo "ok   mbn $* -> $status: $first"
    fi
}
expect 2 "--alpha" summary --alpha 0
expect 2 "--alpha" summary --alpha -1
expect 2 "--alpha" summary --alpha abc
expect 2 "--alpha" summary --alpha 2.5
expect 2 "--alpha" summary --alpha nan
expect 2 "--resolution" summary --resolution 31
expect 2 "--resolution" summary --resolution 1e3
expect 2 "--num-classes" summary --num-classes 1
expect 2 "--bogus" summary --bogus
expect 2 "--alpha needs a value" summary --alpha
expect 2 "unknown command" frobnicate
expect 2 "--device" bench --device no-such-device --iterations 1
expect 2 "--device" bench --device 99 --iterations 1
expect 2 "--mode" bench --mode sideways
expect 2 "--batch-size" bench --batch-size 0
expect 2 "--device" devices --device 0
# The library names parameters (alpha, num_classes, batch_size); the command line words them as
# the flags: the same number typed another way, a parameter inside a file's message, and
# after a value the user typed that happens to be a parameter's name (left as typed).
expect 2 "--alpha 0: must be in" summary --alpha 0.00
expect 2 "--num-classes 1: must be between 2 and 1000000" summary --num-classes 1
expect 1 "timm_mbv1_025.safetensors: --num-classes 5 was given, but the model has 10" \
    infer --checkpoint tests/fixtures/timm_mbv1_025.safetensors --num-classes 5 \
    tests/fuzz/corpus_decode/rgb.png
expect 2 "mbn: error: alpha 3: must be in" train --data alpha --alpha 3
# --help works everywhere and exits 0 with the usage line on stdout.
for cmd in devices summary bench train eval infer export plot; do
    out=$("$MBN" "$cmd" --help) && [[ "$out" == "usage: mbn $cmd"* ]] || { echo "FAIL: mbn $cmd --help"; fail=1; }
done
exit $fail
