#!/usr/bin/env bash
# Preemption of mpirun -np 2 mbn train: SIGTERM to one rank stops both after the same step with
# rank 0's checkpoint (the stop flag travels in the allreduce); SIGTERM to mpirun, which forwards
# it, too; --resume auto then ends identical to an uninterrupted run. Exit status 1 and
# "interrupted": true in the one JSON document.
set -euo pipefail
MBN=${MBN:-build/mbn}
source tests/mpi_env.sh
T=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; rm -rf "$T"' EXIT
python3 tests/make_tiny_idx.py "$T/data" 512 64
weights() { "$MBN" export --checkpoint "$1" --format safetensors --out "$2" 2>/dev/null >/dev/null; }

# SIGTERM to rank 1 only, and to mpirun, in a long run once epoch 2 is under way: every rank
# stops after the same step s with rank 0's checkpoint; resumed to step s + 10, the weights are
# those of a straight run stopped at s + 10 (--max-steps).
long=(--data "$T/data" --alpha 0.25 --resolution 32 --batch-size 16 --epochs 200 --no-eval --quiet)
json_field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$@"; }
stop_mid_run() { # dir signal target(rank1|mpirun) [mpirun flags]
    local dir=$1 sig=$2 target=$3
    shift 3
    "${MPIRUN[@]}" "$@" -np 2 "$MBN" train "${long[@]}" --ckpt-dir "$dir" --json \
        >"$dir.json" 2>"$dir.err" &
    pid=$!
    for _ in $(seq 1 2000); do [ -f "$dir/mobilenetv1-1_16.ckpt" ] && break; sleep 0.01; done
    if [ "$target" = rank1 ]; then kill "-$sig" "$(rank_pid $pid 1)"; else kill "-$sig" $pid; fi
    local status=0
    wait $pid || status=$?
    pid=
    [ "$status" != 0 ] || { echo "FAIL: $sig to $target: exit 0"; cat "$dir.err"; exit 1; }
    grep -q "interrupted (.*) after step" "$dir.err" || { echo "FAIL: no stop"; cat "$dir.err"; exit 1; }
    [ "$(json_field "$dir.json" interrupted)" = True ] || { echo "FAIL: json"; exit 1; }
    local s
    s=$(json_field "$dir.json" steps)
    echo "     $sig to $target: exit $status, $(grep -o 'interrupted.*' "$dir.err" | sed "s|$T/||")"
    "${MPIRUN[@]}" -np 2 "$MBN" train "${long[@]}" --ckpt-dir "$dir" --resume auto \
        --max-steps $((s + 10)) --json >"$dir.resumed.json" 2>/dev/null
    "${MPIRUN[@]}" -np 2 "$MBN" train "${long[@]}" --ckpt-dir "$dir.straight" \
        --max-steps $((s + 10)) --json >"$dir.straight.json"
    weights "$(json_field "$dir.resumed.json" checkpoint)" "$dir.st"
    weights "$(json_field "$dir.straight.json" checkpoint)" "$dir.straight.st"
    cmp "$dir.straight.st" "$dir.st"
}
stop_mid_run "$T/term1" TERM rank1
echo "ok   SIGTERM to rank 1: both ranks stop after the same step; resumed: identical"
# mpirun forwards SIGTERM to the ranks odls_base_sigkill_timeout seconds later (default 1) and
# SIGKILLs them as long after that: the README tells cluster users to raise it so that a step
# and a checkpoint fit.
stop_mid_run "$T/termrun" TERM mpirun --mca odls_base_sigkill_timeout 3
echo "ok   SIGTERM to mpirun: stopped with a checkpoint; resumed: identical"
