#!/usr/bin/env bash
# Interleaved A/B of two mbn builds on the same device: A, B, A, B, ... for each workload, best
# of REPEAT runs each (on a shared machine the best run is the least disturbed one).
#   bench/ab.sh A_MBN B_MBN [REPEAT]        e.g. bench/ab.sh /tmp/base/build/mbn build/mbn 5
# Workloads (WORKLOADS overrides; one mbn bench argument list per line): 1.0-224 inference and
# training at batch 32. Extra environment (MBN_KERNELS, MBN_DEVICE) applies to both builds.
set -euo pipefail
A=${1:?usage: bench/ab.sh A_MBN B_MBN [REPEAT]}
B=${2:?usage: bench/ab.sh A_MBN B_MBN [REPEAT]}
REPEAT=${3:-5}
WORKLOADS=${WORKLOADS:-"--mode infer --batch-size 32 --iterations 3
--mode train --batch-size 32 --iterations 2"}
echo "A = $A"
echo "B = $B"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
while IFS= read -r args; do
    [ -z "$args" ] && continue
    best_a=0 best_b=0 all_a="" all_b=""
    for i in $(seq "$REPEAT"); do
        for side in a b; do
            bin=$A
            [ $side = b ] && bin=$B
            # shellcheck disable=SC2086
            ips=$("$bin" bench $args --json 2>/dev/null |
                python3 -c "import json,sys; print('%.2f' % json.load(sys.stdin)['results'][0]['images_per_s'])")
            if [ $side = a ]; then
                all_a="$all_a $ips"
                best_a=$(python3 -c "print(max($best_a, $ips))")
            else
                all_b="$all_b $ips"
                best_b=$(python3 -c "print(max($best_b, $ips))")
            fi
        done
    done
    printf '%-50s A best %8.2f (%s )  B best %8.2f (%s )  B/A %.3f\n' "$args" "$best_a" "$all_a" \
        "$best_b" "$all_b" "$(python3 -c "print($best_b / $best_a)")"
done <<< "$WORKLOADS"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
