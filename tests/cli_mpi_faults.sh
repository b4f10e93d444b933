#!/usr/bin/env bash
# Faults in a 2-rank MPI run end the whole job, never hang it (each run is under `timeout`, so a
# hang fails the test instead of stalling CI):
#  - rank 1 killed with SIGKILL mid-epoch: non-zero exit, no process left behind, and the
#    checkpoint folder still loads (mbn eval) and resumes to the end;
#  - an error on rank 1 alone (its --data is missing: mpirun's MPMD syntax gives it its own
#    command line): non-zero exit with rank 1's message, no process left;
#  - a non-finite loss on every rank: exit 1, one error line (rank 0's), no checkpoint of it.
set -euo pipefail
MBN=${MBN:-build/mbn}
source tests/mpi_env.sh
T=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; rm -rf "$T"' EXIT
python3 tests/make_tiny_idx.py "$T/data" 512 64
long=(--data "$T/data" --alpha 0.25 --resolution 32 --batch-size 16 --epochs 200 --no-eval --quiet)
LIMIT=120 # seconds: far above the few a failing job takes, only there to turn a hang into a FAIL

# Checks that none of the given pids is still running a few seconds on: mpirun returns once it
# has sent SIGKILL, and a dying process can take a moment (a sanitizer build unmaps a lot). A
# zombie (state Z) has ended: it only waits for a PID 1 that reaps orphans, which some
# containers lack.
none_left() {
    local p state
    for _ in $(seq 1 100); do
        local alive=
        for p in "$@"; do
            state=$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null || true)
            [ -n "$state" ] && [ "$state" != Z ] && alive=$p
        done
        [ -z "$alive" ] && return 0
        sleep 0.1
    done
    echo "FAIL: process $alive left behind"
    ps -fp "$alive"
    exit 1
}

timeout $LIMIT "${MPIRUN[@]}" -np 2 "$MBN" train "${long[@]}" --save-every-steps 4 \
    --ckpt-dir "$T/kill" 2>"$T/kill.err" &
pid=$!
for _ in $(seq 1 2000); do [ -f "$T/kill/mobilenetv1-2_4.ckpt" ] && break; sleep 0.01; done
launcher=$(pgrep -P $pid | head -1) # timeout's child: mpirun
r0=$(rank_pid "$launcher" 0)
r1=$(rank_pid "$launcher" 1)
[ -n "$r0" ] && [ -n "$r1" ] || { echo "FAIL: ranks not found"; exit 1; }
start=$(date +%s)
kill -KILL "$r1"
status=0
wait $pid || status=$?
pid=
[ "$status" != 0 ] && [ "$status" != 124 ] || { echo "FAIL: exit $status after SIGKILL"; exit 1; }
none_left "$launcher" "$r0" "$r1"
echo "ok   SIGKILL to rank 1: job ended with exit $status in $(( $(date +%s) - start )) s, no process left"
latest=$(ls -t "$T"/kill/mobilenetv1-*.ckpt | head -1)
"$MBN" eval --data "$T/data" --checkpoint "$latest" --json >/dev/null
timeout $LIMIT "${MPIRUN[@]}" -np 2 "$MBN" train "${long[@]}" --epochs 3 --ckpt-dir "$T/kill" \
    --resume auto --json >"$T/resumed.json" 2>/dev/null
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['epochs'] == 3 and d['steps'] == 48, d" "$T/resumed.json"
echo "ok   the checkpoint folder loads ($(basename "$latest")) and resumes to the end"

# An error on rank 1 alone. Its message reaches stderr, naming the rank; the job ends.
common=(--alpha 0.25 --resolution 32 --batch-size 16 --epochs 1 --no-eval --quiet)
status=0
timeout $LIMIT "${MPIRUN[@]}" -np 1 "$MBN" train --data "$T/data" "${common[@]}" --ckpt-dir "$T/err" : \
    -np 1 "$MBN" train --data "$T/missing" "${common[@]}" --ckpt-dir "$T/err" \
    >"$T/err.out" 2>"$T/err.err" || status=$?
[ "$status" != 0 ] && [ "$status" != 124 ] || { echo "FAIL: exit $status"; cat "$T/err.err"; exit 1; }
grep -q "mbn: error: rank 1 of 2: .*$T/missing" "$T/err.err" || { echo "FAIL: message"; cat "$T/err.err"; exit 1; }
[ ! -s "$T/err.out" ] || { echo "FAIL: stdout"; cat "$T/err.out"; exit 1; }
none_left $(pgrep -f -- "--ckpt-dir $T/err" || true)
echo "ok   error on rank 1 only: exit $status, $(grep -m1 'mbn: error: rank 1' "$T/err.err" | sed "s|$T/||")"

# A diverging run: every rank sees the same NaN mean loss at the same step; rank 0 reports it.
status=0
timeout $LIMIT "${MPIRUN[@]}" -np 2 "$MBN" train --data "$T/data" "${common[@]}" --max-lr 3e38 \
    --ckpt-dir "$T/nan" >"$T/nan.out" 2>"$T/nan.err" || status=$?
[ "$status" = 1 ] || { echo "FAIL: NaN run exit $status"; cat "$T/nan.err"; exit 1; }
[ "$(grep -c 'mbn: error:' "$T/nan.err")" = 1 ] && grep -q "mbn: error: step .*the loss is" "$T/nan.err" ||
    { echo "FAIL: NaN message"; cat "$T/nan.err"; exit 1; }
if ls "$T/nan"/*.ckpt >/dev/null 2>&1; then echo "FAIL: checkpoint written after NaN"; exit 1; fi
echo "ok   non-finite loss on every rank: exit 1, $(grep 'mbn: error:' "$T/nan.err" | sed "s|$T/||")"
