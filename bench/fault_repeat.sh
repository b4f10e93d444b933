#!/usr/bin/env bash
# The fault tests of tests/cli_mpi_hosts.sh, repeated at random points of an epoch
# (docs/PERFORMANCE.md, "Faults across hosts"): 2 hosts x 1 rank (network namespaces; needs root),
# and REPS times each (default 10) host 1's data link cut (--comm-timeout 5), rank 1 killed
# (--comm-timeout 5) and host 1 cut off from both networks (--comm-timeout 15: Open MPI's daemon
# keepalive, 5 s here, notices first). The fault comes 0-3 s after the run's first checkpoint
# (an epoch is 64 steps, 1-2 s). Each repetition must end within the timeout + 30 s with no
# process left on either host, the newest checkpoint must load and --resume auto must finish the
# next epoch (on 2 hosts after the data link cut, by 1 process after the others). Prints one
# Markdown row per repetition and a summary per fault; exits 1 if any repetition failed.
#   bench/fault_repeat.sh [build] > faults.md
set -euo pipefail
B=${1:-build}
MBN=$(cd "$B" && pwd)/mbn
REPS=${REPS:-10}
source tests/mpi_env.sh
source tests/netns_hosts.sh # makes $T
export MBN_CACHE_DIR=${MBN_CACHE_DIR:-$T/cache}
netns_hosts 2
source tests/netns_faults.sh
# Warm the kernel cache: the first run would otherwise spend its first step compiling.
"$MBN" train "${FAULT_TRAIN[@]}" --max-steps 1 --ckpt-dir "$T/warm" >/dev/null

echo "Machine: $(nproc) cores; $(date -u +%Y-%m-%dT%H:%MZ); load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| fault | rep | fault after first checkpoint (s) | job ended after (s) | exit | limit (s) | resume |"
echo "|---|---|---|---|---|---|---|"
failed=0
for fault in cut_data kill_rank1 cut_host; do
    case $fault in
    cut_data) timeout=5 resume=("${NSRUN[@]}" -np 2) spe=$FAULT_SPE2 ;;
    kill_rank1) timeout=5 resume=(env) spe=$FAULT_SPE1 ;;
    cut_host) timeout=15 resume=(env) spe=$FAULT_SPE1 ;;
    esac
    worst=0 ok=0
    for rep in $(seq 1 "$REPS"); do
        delay=$((RANDOM % 3)).$((RANDOM % 10))
        dir=$T/$fault-$rep
        if fault_run "$dir" "$timeout" "fault_$fault" "$delay" >"$dir.why" && fault_heal &&
            fault_resumed "$dir" "$spe" "${resume[@]}" >>"$dir.why"; then
            echo "| $fault | $rep | $delay | $FAULT_ENDED | $FAULT_STATUS | $((timeout + 30)) | $FAULT_RESUMED |"
            ok=$((ok + 1))
            worst=$(python3 -c "print(max($worst, $FAULT_ENDED))")
        else
            fault_heal 2>/dev/null || true
            echo "| $fault | $rep | $delay | FAILED: $(head -1 "$dir.why") | | $((timeout + 30)) | |"
            failed=1
        fi
        rm -rf "$dir" # each run writes ~10 checkpoints
    done
    echo "| **$fault** | **$ok of $REPS ended in time, nothing left, resumed** | | **slowest $worst s** | | | |"
done
echo
echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
exit $failed
