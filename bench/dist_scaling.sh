#!/usr/bin/env bash
# Data-parallel scaling on this machine (docs/PERFORMANCE.md, "Distributed training"): training
# throughput of 1 rank vs 2 MPI ranks, each rank's PoCL limited to one core
# (POCL_MAX_PTHREAD_COUNT=1; mpirun binds each of the two ranks to a core), next to one process
# using both cores and the in-process pair (--device 0,0), plus the exchange's share of a step
# and the ring allreduce alone (bench/allreduce_bench.c). The control: two independent 1-core
# processes at the same time, what this machine gives two ranks before any communication.
# As root, then 2 hosts x 1 rank over TCP (tests/netns_hosts.sh: network namespaces, one core
# each), on the veth at full speed and limited by tc to 1 Gbit/s and 100 Mbit/s, with the
# exchange after backward (--bucket-mb 0) and overlapped with it (the default buckets; BUCKETS
# lists other --bucket-mb values to compare, e.g. BUCKETS="0 0.25 1 4"); LINKS picks links
# (default "full 1gbit 100mbit").
# Run it in a quiet window:
#   bench/dist_scaling.sh [build] > dist.md     (HOSTS_ONLY=1: the 2-host rows only)
# Every figure is the last of 2 epochs (the first one warms up), best of REPEAT runs (default 2);
# the load average (1 min) after each row says how quiet the machine was.
set -euo pipefail
B=${1:-build}
MBN=$B/mbn
REPEAT=${REPEAT:-2}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
MPIRUN=(mpirun --mca btl_vader_single_copy_mechanism none)
[ "$(id -u)" = 0 ] && MPIRUN+=(--allow-run-as-root)
"$MBN" --version | grep -q "^MPI: yes" || { echo "mbn was built without MPI" >&2; exit 1; }

# The epoch summary mbn prints: per step time, images/s and (with ranks) the exchange's time,
# share and part not hidden behind backward.
last_epoch() {
    python3 - "$1" <<'PY'
import re, sys
lines = [l for l in open(sys.argv[1]) if l.startswith("Epoch time:")]
l = lines[-1]
step = float(re.search(r"per step time: ([\d.]+) ms", l).group(1))
ips = float(re.search(r"([\d.]+) images/s", l).group(1))
m = re.search(r"gradient exchange ([\d.]+) ms per step \(([\d.]+)%\), ([\d.]+) ms", l)
ex = (m.group(1), m.group(2), m.group(3)) if m else ("-", "-", "-")
print(f"{step:.1f} {ips:.1f} {ex[0]} {ex[1]} {ex[2]}")
PY
}
load() { cut -d' ' -f1 /proc/loadavg; }

run() { # label how(one|twice|both|inproc|mpi|hosts) data flags...
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
        hosts) POCL_MAX_PTHREAD_COUNT=1 "${NSRUN[@]}" -np 2 --bind-to none -x POCL_MAX_PTHREAD_COUNT \
            "$MBN" "${args[@]}" 2>"$T/err" >/dev/null ;;
        esac
        local r
        r=$(last_epoch "$T/err")
        if [ -z "$best" ] || python3 -c "import sys; sys.exit(not float('${r%% *}') < float('${best%% *}'))"; then
            best=$r
        fi
    done
    read -r step ips ar share hidden <<<"$best"
    if [ "$how" = hosts ]; then
        echo "| $label | $step | $ips | $ar | $hidden | $(load) |"
    else
        echo "| $label | $step | $ips | $ar | $share | $(load) |"
    fi
}

python3 tests/make_tiny_idx.py "$T/fm" 4096 64
python3 tests/make_tiny_idx.py "$T/fm224" 384 16
echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(date -u +%Y-%m-%dT%H:%MZ)"
echo
small=(--alpha 0.25 --resolution 32 --batch-size 64)
big=(--alpha 1.0 --resolution 224 --batch-size 32)
if [ -z "${HOSTS_ONLY:-}" ]; then # HOSTS_ONLY=1: the 2-host rows only
    echo "| run | ms per step | images/s | exchange ms per step | exchange share % | load |"
    echo "|---|---|---|---|---|---|"
    run "0.25-32 b64/rank: 1 rank, 1 core" one "$T/fm" "${small[@]}"
    run "0.25-32 b64/rank: 2 MPI ranks, 1 core each" mpi "$T/fm" "${small[@]}"
    run "0.25-32 b64: 2 independent 1-core processes at once (each)" twice "$T/fm" "${small[@]}"
    run "0.25-32 b64/rank: 2 in-process ranks (--device 0,0), 2 cores" inproc "$T/fm" "${small[@]}"
    run "0.25-32 b128: 1 rank, 2 cores" both "$T/fm" --alpha 0.25 --resolution 32 --batch-size 128
    run "1.0-224 b32/rank: 1 rank, 1 core" one "$T/fm224" "${big[@]}"
    run "1.0-224 b32/rank: 2 MPI ranks, 1 core each" mpi "$T/fm224" "${big[@]}"
    run "1.0-224 b32: 2 independent 1-core processes at once (each)" twice "$T/fm224" "${big[@]}"
    echo
    echo "Ring allreduce alone (2 ranks, shared memory):"
    echo
    "${MPIRUN[@]}" -np 2 --bind-to core "$B/bench/allreduce_bench"
fi

[ "$(id -u)" = 0 ] || { echo; echo "(not root: no network namespaces, no 2-host rows)"; exit 0; }
MBN=$(cd "$B" && pwd)/mbn # started by the hosts' daemons
source tests/mpi_env.sh
source tests/netns_hosts.sh # its EXIT trap deletes $T too
netns_hosts 2 0 1 # host 0 on core 0, host 1 on core 1
echo
echo "2 hosts x 1 rank over TCP (network namespaces, one core each); \"not hidden\": the part of"
echo "the exchange after this rank's backward was done (waiting for the other rank included)."
echo
echo "| run | ms per step | images/s | exchange ms per step | not hidden ms per step | load |"
echo "|---|---|---|---|---|---|"
for link in ${LINKS:-full 1gbit 100mbit}; do
    rate=$link
    [ "$link" = full ] && rate=off
    netns_rate 0 "$rate"
    netns_rate 1 "$rate"
    for bucket in ${BUCKETS:-0 default}; do
        flag=(--bucket-mb "$bucket")
        how="overlapped, $bucket MB buckets"
        [ "$bucket" = default ] && flag=() how="overlapped (default buckets)"
        [ "$bucket" = 0 ] && how="one exchange after backward"
        run "0.25-32 b64/rank, $link link, $how" hosts "$T/fm" "${small[@]}" "${flag[@]}"
        run "1.0-224 b32/rank, $link link, $how" hosts "$T/fm224" "${big[@]}" "${flag[@]}"
    done
    echo
    echo "Exchange alone over the $link link (bench/allreduce_bench.c, 2 hosts):"
    echo
    "${NSRUN[@]}" -np 2 --bind-to none "$B/bench/allreduce_bench"
    echo
done
