#!/usr/bin/env bash
# Data-parallel scaling on this machine (docs/PERFORMANCE.md, "Distributed training"): training
# throughput of 1 rank vs 2 MPI ranks, each rank's PoCL limited to one core
# (POCL_MAX_PTHREAD_COUNT=1; mpirun binds each of the two ranks to a core), next to one process
# using both cores and the in-process pair (--device 0,0), plus the allreduce's share of a step
# and the ring allreduce alone (bench/allreduce_bench.c). The control: two independent 1-core
# processes at the same time, what this machine gives two ranks before any communication.
# Run it in a quiet window:
#   bench/dist_scaling.sh [build] > dist.md
# Every figure is the last of 2 epochs (the first one warms up), best of REPEAT runs (default 2).
set -euo pipefail
B=${1:-build}
MBN=$B/mbn
REPEAT=${REPEAT:-2}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
MPIRUN=(mpirun --mca btl_vader_single_copy_mechanism none)
[ "$(id -u)" = 0 ] && MPIRUN+=(--allow-run-as-root)
"$MBN" train --help | grep -q "built with MPI" || { echo "mbn was built without MPI" >&2; exit 1; }

# The epoch summary mbn prints: per step time, images/s and (with ranks) the allreduce's share.
last_epoch() {
    python3 - "$1" <<'PY'
import re, sys
lines = [l for l in open(sys.argv[1]) if l.startswith("Epoch time:")]
l = lines[-1]
step = float(re.search(r"per step time: ([\d.]+) ms", l).group(1))
ips = float(re.search(r"([\d.]+) images/s", l).group(1))
m = re.search(r"allreduce ([\d.]+) ms per step \(([\d.]+)%\)", l)
print(f"{step:.1f} {ips:.1f} {m.group(1) if m else '-'} {m.group(2) if m else '-'}")
PY
}

run() { # label how(one|both|inproc|mpi) data flags...
    local label=$1 how=$2 data=$3
    shift 3
    local best="" i
    for i in $(seq 1 "$REPEAT"); do
        local args=(train --data "$data" --epochs 2 --no-eval --workers 1 --ckpt-dir "$T/ck" "$@")
        rm -rf "$T/ck" "$T/ck2"
        case $how in
        one) POCL_MAX_PTHREAD_COUNT=1 taskset -c 0 "$MBN" "${args[@]}" 2>"$T/err" >/dev/null ;;
        twice) # the control: two independent 1-core processes at once (no MPI, no allreduce)
            POCL_MAX_PTHREAD_COUNT=1 taskset -c 1 "$MBN" "${args[@]}" --ckpt-dir "$T/ck2" \
                2>/dev/null >/dev/null &
            POCL_MAX_PTHREAD_COUNT=1 taskset -c 0 "$MBN" "${args[@]}" 2>"$T/err" >/dev/null
            wait ;;
        both) "$MBN" "${args[@]}" 2>"$T/err" >/dev/null ;;
        inproc) "$MBN" "${args[@]}" --device 0,0 2>"$T/err" >/dev/null ;;
        mpi) "${MPIRUN[@]}" -np 2 --bind-to core "$MBN" "${args[@]}" 2>"$T/err" >/dev/null ;;
        esac
        local r
        r=$(last_epoch "$T/err")
        if [ -z "$best" ] || python3 -c "import sys; sys.exit(not float('${r%% *}') < float('${best%% *}'))"; then
            best=$r
        fi
    done
    read -r step ips ar share <<<"$best"
    echo "| $label | $step | $ips | $ar | $share |"
}

python3 tests/make_tiny_idx.py "$T/fm" 4096 64
python3 tests/make_tiny_idx.py "$T/fm224" 64 16
echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(date -u +%Y-%m-%dT%H:%MZ)"
echo
echo "| run | ms per step | images/s | allreduce ms per step | allreduce share % |"
echo "|---|---|---|---|---|"
small=(--alpha 0.25 --resolution 32 --batch-size 64)
run "0.25-32 b64/rank: 1 rank, 1 core" one "$T/fm" "${small[@]}"
run "0.25-32 b64/rank: 2 MPI ranks, 1 core each" mpi "$T/fm" "${small[@]}"
run "0.25-32 b64: 2 independent 1-core processes at once (each)" twice "$T/fm" "${small[@]}"
run "0.25-32 b64/rank: 2 in-process ranks (--device 0,0), 2 cores" inproc "$T/fm" "${small[@]}"
run "0.25-32 b128: 1 rank, 2 cores" both "$T/fm" --alpha 0.25 --resolution 32 --batch-size 128
big=(--alpha 1.0 --resolution 224 --batch-size 8)
run "1.0-224 b8/rank: 1 rank, 1 core" one "$T/fm224" "${big[@]}"
run "1.0-224 b8/rank: 2 MPI ranks, 1 core each" mpi "$T/fm224" "${big[@]}"
run "1.0-224 b8: 2 independent 1-core processes at once (each)" twice "$T/fm224" "${big[@]}"
echo
echo "Ring allreduce alone (2 ranks, shared memory):"
echo
"${MPIRUN[@]}" -np 2 --bind-to core "$B/bench/allreduce_bench"
