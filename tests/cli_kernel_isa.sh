#!/usr/bin/env bash
# The cpu kernels on every x86 instruction set, whatever CPU runs the tests. PoCL compiles for
# POCL_LLVM_CPU_NAME and mbn's device profile follows it, so on one machine:
#   1. the plan each ISA gets: SSE2 (x86-64) 4-float vectors and a 6 x 8 GEMM tile, AVX2
#      (haswell) 8 and 6 x 16, AVX-512 (skylake-avx512) 16 and 7 x 32: never a vector wider
#      than the registers, never more accumulators than registers;
#   2. the kernels compile without a warning for that ISA: clang, given -march=<ISA>, builds
#      the program's sources with the plan's defines (PoCL's own frontend uses the host's
#      features, so an AVX-512 machine cannot see AVX2's "-Wpsabi" warnings through PoCL);
#   3. the same bits on every ISA: inference logits and two training steps of two models are
#      identical to the native run's (each output is the same in-order sum on every width).
# Each ISA runs in its own PoCL kernel cache (PoCL's cache key does not include the CPU).
set -uo pipefail
MBN=${MBN:-build/mbn}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
unset MBN_KERNELS
if ! "$MBN" devices 2>/dev/null | grep -q "Portable Computing Language"; then
    echo "SKIP: the device is not PoCL's (POCL_LLVM_CPU_NAME does not apply)"
    exit 77
fi
case "$(uname -m)" in x86_64 | amd64) ;; *)
    echo "SKIP: not an x86-64 machine"
    exit 77
    ;;
esac
fail=0
isa_run() { # isa, then a command: runs it with PoCL compiling for that ISA
    local isa=$1
    shift
    POCL_LLVM_CPU_NAME=$isa POCL_CACHE_DIR="$T/pocl-$isa" MBN_CACHE_DIR="$T/mbn-$isa" "$@"
}

# 1. The plans.
for spec in "x86-64 sse 4 6 8" "haswell avx2 8 6 16" "skylake-avx512 avx512 16 7 32"; do
    set -- $spec
    isa_run "$1" "$MBN" devices --json >"$T/dev-$1.json"
    if python3 - "$T/dev-$1.json" "$@" <<'PY'; then
import json, sys
path, cpu, isa, vec, tm, tn = sys.argv[1], sys.argv[2], sys.argv[3], *map(int, sys.argv[4:])
d = json.load(open(path))["devices"][0]
p, k = d["profile"], d["kernels"]
assert p["isa"] == isa and p["target"] == cpu and p["vector_floats"] == vec, p
g = k["ops"]["gemm"]["params"]
assert k["cpu_vector"] == vec and g["TM"] == tm and g["TN"] == tn, (k["cpu_vector"], g)
assert 2 * g["TM"] + 3 <= p["vector_registers"], "the tile's accumulators spill"
assert k["ops"]["dw_fwd"]["params"]["VEC"] == vec, k["ops"]["dw_fwd"]
assert f"-DMBN_CPU_VEC={vec} " in d["build_options"] + " ", d["build_options"][:80]
print(f"ok  {cpu}: {isa}, vector {vec}, GEMM tile {tm} x {tn}")
PY
        :
    else
        fail=1
    fi
done

# 2. Warning-free for each ISA (clang's OpenCL frontend, the program's sources in the order
# host/program.c builds them: prelude.cl first, peak.cl on its own).
if command -v clang >/dev/null && echo 'kernel void k(global float *x) { x[0] = fma(x[0], 2.0f, 1.0f); }' |
    clang -x cl -cl-std=CL1.2 -Xclang -finclude-default-header -fsyntax-only - 2>/dev/null; then
    srcs=(cl/prelude.cl)
    for f in cl/*.cl; do
        case "$f" in cl/prelude.cl | cl/peak.cl) ;; *) srcs+=("$f") ;; esac
    done
    cat "${srcs[@]}" >"$T/program.cl"
    for cpu in x86-64 haswell skylake-avx512; do
        opts=$(python3 -c "import json; print(json.load(open('$T/dev-$cpu.json'))['devices'][0]['build_options'])")
        # shellcheck disable=SC2086
        if clang -x cl $opts -Xclang -finclude-default-header -target x86_64-unknown-linux-gnu \
            -march="$cpu" -fsyntax-only -Werror -Wall "$T/program.cl" >"$T/clang-$cpu.txt" 2>&1; then
            echo "ok  $cpu: the kernels compile without a warning"
        else
            head -20 "$T/clang-$cpu.txt"
            echo "FAIL: the kernels warn or fail when compiled for $cpu"
            fail=1
        fi
    done
else
    echo "note: clang with OpenCL headers not found: the per-ISA warning check did not run"
fi

# 3. Same bits on every ISA.
for cfg in "0.25 32 4" "0.5 64 2"; do
    set -- $cfg
    for mode in infer train; do
        for cpu in native haswell x86-64; do
            out="$T/dump-$cpu-$mode-$1.txt"
            if [ $cpu = native ]; then
                MBN_BENCH_DUMP="$out" MBN_CACHE_DIR="$T/mbn-native" "$MBN" bench --alpha "$1" \
                    --resolution "$2" --batch-size "$3" --mode $mode --iterations 2 >/dev/null 2>&1
            else
                MBN_BENCH_DUMP="$out" isa_run $cpu "$MBN" bench --alpha "$1" --resolution "$2" \
                    --batch-size "$3" --mode $mode --iterations 2 >/dev/null 2>&1
            fi || { echo "FAIL: bench $mode $1-$2 on $cpu"; fail=1; continue; }
            [ -s "$out" ] || { echo "FAIL: no dump from $cpu"; fail=1; continue; }
            if [ $cpu != native ]; then
                if cmp -s "$out" "$T/dump-native-$mode-$1.txt"; then
                    echo "ok  $mode $1-$2: $cpu gives the native bits ($(wc -l <"$out") values)"
                else
                    echo "FAIL: $mode $1-$2: $cpu differs from the native run"
                    fail=1
                fi
            fi
        done
    done
done
exit $fail
