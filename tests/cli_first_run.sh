#!/usr/bin/env bash
# The first run of a configuration compiles the OpenCL kernels (seconds): every command that runs
# the network says so once, on stderr, before it happens ("mbn: compiling kernels for <device>
# (first run only)"), keeps stdout clean (the --json document parses), and says nothing the
# second time on the same cache. (The library's callback: tests/cli_library.sh.)
set -uo pipefail
MBN=${MBN:-build/mbn}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
python3 tests/make_tiny_idx.py "$T/data" 64 32
net=(--alpha 0.25 --resolution 32)
"$MBN" train --data "$T/data" "${net[@]}" --batch-size 16 --epochs 1 --no-eval --quiet \
    --ckpt-dir "$T/run" > /dev/null 2>&1 || { echo "FAIL: training the model"; exit 1; }
ckpt="$T/run/mobilenetv1-1_4.ckpt"
device=$("$MBN" devices --json | python3 -c "import json,sys; print(json.load(sys.stdin)['devices'][0]['name'])")
note="mbn: compiling kernels for $device (first run only)"

check() { # name args...: first run on a fresh cache says it once, the second run not at all
    local name=$1
    shift
    local cache="$T/cache-$name" i
    for i in 1 2; do
        MBN_CACHE_DIR="$cache" "$MBN" "$@" --json > "$T/out" 2> "$T/err" ||
            { echo "FAIL $name run $i: status $?"; cat "$T/err"; fail=1; return; }
        python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$T/out" ||
            { echo "FAIL $name: stdout is not one JSON document"; fail=1; }
        local got
        got=$(grep -cxF "$note" "$T/err")
        if { [ "$i" = 1 ] && [ "$got" != 1 ]; } || { [ "$i" = 2 ] && [ "$got" != 0 ]; }; then
            echo "FAIL $name run $i: the note $got times; stderr:"
            cat "$T/err"
            fail=1
            return
        fi
    done
    echo "ok   $name: the note once on the first run, not on the second"
}

check train train --data "$T/data" "${net[@]}" --batch-size 16 --epochs 1 --max-steps 2 \
    --ckpt-dir "$T/run2"
check eval eval --data "$T/data" --checkpoint "$ckpt"
check infer infer --checkpoint "$ckpt" tests/fuzz/corpus_decode/rgb.png
check bench bench "${net[@]}" --batch-size 2 --iterations 1
check tune tune "${net[@]}" --batch-size 2 --mode infer --budget-minutes 0.02
exit $fail
