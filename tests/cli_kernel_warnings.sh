#!/usr/bin/env bash
# The OpenCL kernels (cl/*.cl) compile without a compiler warning, for every kernel family, and
# no command prints the compiler's output when the build succeeds.
#
# mbn builds its programs with -w unless MBN_VERBOSE=1, which drops -w and prints each build log
# (host/program.h). So each family is built here from an empty kernel cache (mbn's and PoCL's)
# with MBN_VERBOSE=1, and a warning located in mbn's program source fails; notes, and warnings
# located in the OpenCL implementation's own headers (*.h), are printed but are not mbn's to fix.
# Then the default build without MBN_VERBOSE must print nothing of the compiler's: no build log,
# no warning, no "N warnings generated." line (clang prints that one on stderr itself).
set -uo pipefail
MBN=${MBN:-build/mbn}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
unset MBN_KERNELS MBN_VERBOSE
bench=(bench --mode infer --alpha 0.25 --resolution 32 --batch-size 2 --iterations 1)
# A diagnostic's location: "warning: FILE:L:C: text" (PoCL's build log) or "FILE:L:C: warning:
# text" (clang's own format, other drivers).
warning_re='(^warning: [^ ]+:[0-9]+(:[0-9]+)?:|^[^ ]+:[0-9]+(:[0-9]+)?: warning:)'
fail=0
for family in auto generic gpu; do
    mkdir -p "$T/$family/pocl" "$T/$family/quiet"
    POCL_CACHE_DIR="$T/$family/pocl" MBN_CACHE_DIR="$T/$family/mbn" MBN_VERBOSE=1 \
        MBN_KERNELS=$family "$MBN" "${bench[@]}" >"$T/$family.txt" 2>&1
    status=$?
    if [ $status != 0 ]; then
        cat "$T/$family.txt"
        echo "FAIL: MBN_VERBOSE=1 mbn bench with MBN_KERNELS=$family exited $status"
        fail=1
        continue
    fi
    if ! grep -q "^mbn: OpenCL build log of the mbn kernels" "$T/$family.txt"; then
        cat "$T/$family.txt"
        echo "FAIL: MBN_VERBOSE=1 printed no build log (MBN_KERNELS=$family)"
        fail=1
    fi
    grep -E "$warning_re" "$T/$family.txt" >"$T/$family.warnings"
    grep -vE '^(warning: )?[^ ]+\.h:[0-9]+' "$T/$family.warnings" >"$T/$family.ours"
    if [ -s "$T/$family.ours" ]; then
        cat "$T/$family.ours"
        echo "FAIL: the kernels warn when built for MBN_KERNELS=$family ($(wc -l <"$T/$family.ours") warnings)"
        fail=1
    else
        echo "ok   MBN_KERNELS=$family: kernels built without a warning in mbn's sources" \
            "($(wc -l <"$T/$family.warnings") in the implementation's headers," \
            "$(grep -c 'note:' "$T/$family.txt") notes)"
    fi
    # the same build, not verbose: nothing of the compiler's on the output (once: the families
    # differ in -D values only)
    [ $family = auto ] || continue
    POCL_CACHE_DIR="$T/$family/quiet" MBN_CACHE_DIR="$T/$family/mbn-quiet" MBN_KERNELS=$family \
        "$MBN" "${bench[@]}" >"$T/$family.quiet" 2>&1
    status=$?
    if [ $status != 0 ] || grep -iE "build log|warning|generated" "$T/$family.quiet"; then
        cat "$T/$family.quiet"
        echo "FAIL: mbn bench (MBN_KERNELS=$family, exit $status) printed compiler output on a" \
            "successful build"
        fail=1
    else
        echo "ok   MBN_KERNELS=$family: a successful build prints nothing of the compiler's"
    fi
done
exit $fail
