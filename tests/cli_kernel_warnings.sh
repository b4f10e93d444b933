#!/usr/bin/env bash
# The OpenCL kernels (cl/*.cl) compile without a compiler warning, for every kernel family:
# PoCL prints only "1 warning generated." when a kernel build warns (a stray line in every
# first run's output, which once broke cli_op_bench's row count), so each family is built here
# in an empty PoCL cache with POCL_DEBUG=warning, which prints the warning's text.
# On other platforms (no PoCL) the check cannot run: SKIP.
set -uo pipefail
MBN=${MBN:-build/mbn}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
unset MBN_KERNELS
if ! "$MBN" devices 2>/dev/null | grep -q "Portable Computing Language"; then
    echo "SKIP: the device is not PoCL's (its compiler's warnings are not visible here)"
    exit 77
fi
fail=0
for family in auto generic gpu; do
    mkdir -p "$T/$family"
    POCL_CACHE_DIR="$T/$family" POCL_DEBUG=warning MBN_KERNELS=$family MBN_CACHE_DIR="$T/mbn" \
        "$MBN" bench --mode infer --alpha 0.25 --resolution 32 --batch-size 2 --iterations 1 \
        >"$T/$family.txt" 2>&1
    status=$?
    if [ $status != 0 ]; then
        cat "$T/$family.txt"
        echo "FAIL: mbn bench with MBN_KERNELS=$family exited $status"
        fail=1
    elif grep -E "warning:|warnings? generated" "$T/$family.txt"; then
        echo "FAIL: the kernels warn when built for MBN_KERNELS=$family"
        fail=1
    else
        echo "ok   MBN_KERNELS=$family: kernels built without a warning"
    fi
done
exit $fail
