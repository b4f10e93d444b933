#!/usr/bin/env bash
# Every mbn kernel under oclgrind, Debian's OpenCL device simulator, which checks each access of
# each work-item: out-of-bounds reads and writes, data races between work-items (global and
# local memory, same-value writes included), barrier divergence, reads of uninitialised memory,
# misuse of the OpenCL API. Any report fails, and so does a kernel of mbn's program that no run
# launched. This is how the gpu kernel family is trusted before it runs on a GPU
# (docs/DESIGN.md, "How kernels are proven").
#
#   ci/oclgrind.sh [BUILD_DIR]     (default: build; needs oclgrind and mbn, bench/op_bench and
#                                   tests/test_ops_* built there; about 2 minutes of CPU time)
#
# The runs, as many at a time as there are cores:
#   - op_bench, every op's rows of every family (generic with CLBlast's GEMMs, cpu, gpu) on the
#     small shapes of bench/op_shapes.sh (partial tiles, halos, edge columns, the GEMM's one-row
#     tile, both strides), each result checked against its reference; outputs and scratch are
#     left unwritten before the op, as the network's are;
#   - test_ops_fused's small shapes (the gpu family's BatchNorm fused into its neighbours) and
#     those of test_ops_forward and test_ops_backward (pooling, classifier, loss, optimizer,
#     BN folding, the inference epilogue);
#   - test_ops_half's small shapes (the fp16 path's kernels) with the cpu family at 4, 16 and 8
#     floats a vector, the gpu family and the generic one;
#   - the FMA-peak kernels once (op_bench --peak-once);
#   - a 0.05-32 network, batch 2: one training step and one inference with the cpu family and
#     with the gpu family, one inference with the generic family (CLBlast; it must exit 0 with
#     its answer: CLBlast's programs once outlived the context and oclgrind aborted at exit).
# Checks: --data-races --uniform-writes --uninitialized --check-api, kernels compiled with
# -cl-opt-disable: oclgrind 21.10's uninitialised-value checker stops ("Unsupported
# instruction: freeze") on the freeze instructions LLVM's optimiser inserts (gemm_gpu,
# dw_conv3x3_fwd_tile: the kernel is abandoned, and what it should have written reads as
# uninitialised downstream, e.g. in bn_stats_merge); unoptimised code has none. One exception:
# the gpu family's network runs (training step and inference) go without --uninitialized and
# optimised (with it, the training step takes about 11 minutes); their kernels get that check
# in the op-level runs above.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
MBN=$BUILD/mbn
OP_BENCH=$BUILD/bench/op_bench
FUSED=$BUILD/tests/test_ops_fused
command -v oclgrind >/dev/null || { echo "ci/oclgrind.sh: oclgrind is not installed"; exit 1; }
for f in "$MBN" "$OP_BENCH" "$FUSED" "$BUILD/tests/test_ops_forward" "$BUILD/tests/test_ops_backward" \
    "$BUILD/tests/test_ops_half"; do
    [ -x "$f" ] || { echo "ci/oclgrind.sh: $f is not built"; exit 1; }
done
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
start=$SECONDS
unset MBN_KERNELS MBN_DEVICE MBN_TEST_SMALL
# MBN_VERBOSE=1: each device handle names the kernels it launched when it closes (coverage).
export MBN_VERBOSE=1 MBN_NO_TUNING=1
ALL=(--build-options -cl-opt-disable --data-races --uniform-writes --uninitialized --check-api)
NO_UNINIT=(--data-races --uniform-writes --check-api)

# job NAME CACHE OPTIONS... -- COMMAND...: COMMAND under oclgrind with OPTIONS, output and
# oclgrind's reports (on stderr) to NAME.out, status and seconds to NAME.status. CACHE is mbn's
# program cache folder: one per set of compile options (its key cannot see oclgrind's). Not
# --log FILE: oclgrind 21.10 opens (truncates) it again for each OpenCL context, so a process
# that opens several (op_bench: one per row) would keep only the last one's reports.
job() {
    local name=$1 cache=$2 t0=$SECONDS opts=()
    shift 2
    while [ "$1" != -- ]; do opts+=("$1"); shift; done
    shift
    MBN_CACHE_DIR=$T/$cache oclgrind "${opts[@]}" --num-threads 1 "$@" >"$T/$name.out" 2>&1
    local status=$?
    echo "$status $((SECONDS - t0))" >"$T/$name.status"
    return $status
}
# oclgrind's reports: a kernel diagnostic names its kernel on a tab-indented "Kernel:" line;
# API errors, fatal errors and the error-count line start with "Oclgrind"/"OCLGRIND".
REPORT_RE=$'^(\tKernel: |Oclgrind - |Oclgrind: |OCLGRIND )'
names=()
start() { # start NAME... -- COMMAND...: COMMAND in the background, at most nproc at a time;
    # NAME... are the jobs it runs
    while [ "$1" != -- ]; do names+=("$1"); shift; done
    shift
    while [ "$(jobs -rp | wc -l)" -ge "$(nproc)" ]; do wait -n; done
    "$@" &
}
# net FAMILY CACHE OPTIONS...: one training step, then inference with the trained weights
net() {
    local fam=$1 cache=$2
    shift 2
    job "net_${fam}_train" "$cache" "$@" -- env MBN_KERNELS="$fam" "$MBN" train "${net_args[@]}" \
        --ckpt-dir "$T/ck_$fam" &&
        job "net_${fam}_infer" "$cache" "$@" -- env MBN_KERNELS="$fam" "$MBN" infer \
            --checkpoint "$T/ck_$fam/mobilenetv1-1_1.ckpt" "$IMG"
}

# inputs: 4 training and 2 test images, one PNG
python3 tests/make_tiny_idx.py "$T/data" 4 2 >/dev/null &&
    python3 tests/idx_to_png.py /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz \
        "$T/img" 1 >/dev/null || { echo "ci/oclgrind.sh: cannot make the inputs"; exit 1; }
IMG=$T/img/img_00000.png
net_args=(--data "$T/data" --alpha 0.05 --resolution 32 --batch-size 2 --max-steps 1 --epochs 1
     --no-eval --quiet --workers 1)

# the longest first
start net_gpu_train net_gpu_infer -- net gpu cache_o2 "${NO_UNINIT[@]}"
start net_cpu_train net_cpu_infer -- net cpu cache "${ALL[@]}"
source bench/op_shapes.sh # MBN_OP_SHAPES, MBN_OPS
# The simulator reports a 1-float vector, so its plan builds the cpu kernels 4 floats wide;
# MBN_TEST_VECTOR_FLOATS=16 and 8 (tests/support/devutil.h) build them as for AVX-512 (16, and
# the 8-wide half forms; 7-row GEMM tile) and AVX2 (8 and 4; 6-row tile): the cpu rows again.
for vec in "" 16 8; do
    for op in $MBN_OPS; do
        args=()
        for s in ${MBN_OP_SHAPES[$op]}; do args+=(--shape "$s"); done
        [ -z "$vec" ] || args+=(--family cpu)
        # --keep-buffers: see bench/op_bench.c (oclgrind's checker and reused buffer ids)
        start "op${vec}_$op" -- job "op${vec}_$op" "cache$vec" "${ALL[@]}" -- \
            env MBN_TEST_VECTOR_FLOATS=$vec "$OP_BENCH" "$op" "${args[@]}" --iterations 0 \
            --keep-buffers
    done
done
start fused -- job fused cache "${ALL[@]}" -- env MBN_TEST_SMALL=1 "$FUSED"
for cfg in cpu: cpu:16 cpu:8 gpu: generic:; do
    fam=${cfg%%:*} vec=${cfg#*:}
    start "half_$fam$vec" -- job "half_$fam$vec" "cache$vec" "${ALL[@]}" -- env MBN_KERNELS="$fam" \
        MBN_TEST_SMALL=1 MBN_TEST_VECTOR_FLOATS=$vec "$BUILD/tests/test_ops_half"
done
for vec in "" 16; do
    for t in forward backward; do
        start "ops${vec}_$t" -- job "ops${vec}_$t" "cache$vec" "${ALL[@]}" -- \
            env MBN_TEST_SMALL=1 MBN_TEST_VECTOR_FLOATS=$vec "$BUILD/tests/test_ops_$t"
    done
    start "peak$vec" -- job "peak$vec" "cache$vec" "${ALL[@]}" -- \
        env MBN_TEST_VECTOR_FLOATS=$vec "$OP_BENCH" --peak-once
done
start infer_generic -- job infer_generic cache "${ALL[@]}" -- env MBN_KERNELS=generic "$MBN" infer \
    --checkpoint tests/fixtures/old_format/fmnist_a005_r32.ckpt "$IMG"
wait

fail=0
for n in "${names[@]}"; do
    [ -f "$T/$n.status" ] || { echo "FAIL $n: did not run (the step before it failed)"; fail=1; continue; }
    read -r status secs <"$T/$n.status"
    problem=""
    reports=$(grep -cE "$REPORT_RE" "$T/$n.out")
    if [ "$reports" != 0 ]; then
        problem="$reports oclgrind report(s)"
    elif [ "$status" != 0 ]; then
        problem="exit status $status"
    elif grep -qE "FAIL|error|skipped" "$T/$n.out"; then
        problem="a check failed"
    elif [[ $n == *infer* ]] && ! grep -q "^ *1\. " "$T/$n.out"; then
        problem="no answer on stdout"
    fi
    if [ -n "$problem" ]; then
        echo "FAIL $n ($secs s): $problem"
        # the first reports (each names the kernel, the work-item and the line of mbn's program
        # source: the cl/*.cl files one after another, in cmake's order), then the end
        grep -m 10 -B 2 -A 6 -E "$REPORT_RE" "$T/$n.out"
        echo "..."
        tail -n 30 "$T/$n.out"
        fail=1
    else
        echo "ok   $n ($secs s)"
    fi
done

# every kernel of mbn's program was launched by some run
for vec in "" 16; do
    MBN_CACHE_DIR=$T/cache$vec MBN_TEST_VECTOR_FLOATS=$vec oclgrind "$OP_BENCH" --list-kernels \
        2>/dev/null
done | sort -u >"$T/all_kernels"
sed -n 's/^mbn: kernels launched on [^:]*: *//p' "$T"/*.out | tr ' ' '\n' | sed '/^$/d' |
    sort -u >"$T/launched"
missing=$(comm -23 "$T/all_kernels" "$T/launched")
if [ ! -s "$T/all_kernels" ]; then
    echo "FAIL: op_bench --list-kernels listed no kernel"
    fail=1
elif [ -n "$missing" ]; then
    echo "FAIL: kernels no run launched under oclgrind: $(echo $missing)"
    fail=1
else
    echo "ok   all $(wc -l <"$T/all_kernels") kernels of mbn's program launched under oclgrind"
fi
echo "oclgrind stage: $((SECONDS - start)) s"
exit $fail
