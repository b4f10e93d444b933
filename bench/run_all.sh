#!/bin/bash
# mbn next to what a user would run instead on this CPU, in ONE run, same thread count for
# everyone, fp32, best of REPEAT runs with mbn and the others alternating (on a shared machine
# the best run is the least disturbed one). Prints markdown tables for docs/PERFORMANCE.md.
#
#   bench/run_all.sh [threads]          (default 2)
#   MBN=./build/mbn
#   PYTHON=python3      a Python with onnxruntime, openvino, torch >= 2 (torch.compile), numpy;
#                       here: PYTHON=/work/wt/venv-bench/bin/python. A runtime it lacks is
#                       skipped with a message (CI never runs this script).
#   REPEAT=3  ITER=3    repeats; timed iterations at batch 32 (x8 at batch 1, x10 at 0.25-32)
#   RUNTIMES="onnxruntime openvino torch torch-compile"
#   TORCH_FORMATS=contiguous,channels_last   (PyTorch: the faster is reported)
#   ISA=avx2 | sse      run the AVX2 (or SSE2) path of an AVX-512 machine: mbn through PoCL's
#                       POCL_LLVM_CPU_NAME (haswell, x86-64; its own PoCL and mbn caches),
#                       OpenVINO and PyTorch's oneDNN through ONEDNN_MAX_CPU_ISA, PyTorch's own
#                       kernels through ATEN_CPU_CAPABILITY; ONNX Runtime has no such switch
#                       and runs its native code (said in the output)
#   ONNX=model.onnx     the model for ONNX Runtime/OpenVINO (default: `mbn export --format onnx`
#                       of a random model from build/bench/make_random_model, else exported from
#                       the PyTorch definition in tests/timm_mbv1.py)
#
# Workloads (MobileNet V1): inference 1.0-224 at batch 1 and 32 (every runtime), a training step
# 1.0-224 batch 32 and 0.25-32 batch 64 with 10 classes (mbn, PyTorch eager, torch.compile).
# mbn's OpenCL device is limited to the same threads (POCL_MAX_PTHREAD_COUNT). The FMA peak of
# those threads is measured in the same run: mbn's cl/peak.cl on PoCL (`mbn bench
# --measure-peak`) and an OpenBLAS SGEMM through numpy as a second opinion.
set -euo pipefail
cd "$(dirname "$0")/.."
MBN=${MBN:-./build/mbn}
PY=${PYTHON:-python3}
T=${1:-2}
IT=${ITER:-3}
R=${REPEAT:-3}
RUNTIMES=${RUNTIMES:-onnxruntime openvino torch torch-compile}
FORMATS=${TORCH_FORMATS:-contiguous,channels_last}
export POCL_MAX_PTHREAD_COUNT=$T OMP_NUM_THREADS=$T
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
case ${ISA:-native} in
  native) ;;
  avx2 | sse)
    cpu=haswell onednn=AVX2 aten=avx2
    [ "$ISA" = sse ] && cpu=x86-64 onednn=SSE41 aten=default
    export POCL_LLVM_CPU_NAME=$cpu POCL_CACHE_DIR=$out/pocl MBN_CACHE_DIR=$out/mbn
    export ONEDNN_MAX_CPU_ISA=$onednn ATEN_CPU_CAPABILITY=$aten
    echo "ISA $ISA: mbn on PoCL for $cpu, OpenVINO/PyTorch oneDNN capped at $onednn, PyTorch ATen $aten; ONNX Runtime native (no switch)" >&2
    ;;
  *) echo "ISA=$ISA: expected native, avx2 or sse" >&2; exit 2 ;;
esac

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $T threads each" >&2
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
date -u +"%Y-%m-%d %H:%M UTC" >"$out/started"

# The ONNX model: $ONNX, else mbn's own export of a random 1.0-224 model (what a user of mbn
# would hand to those runtimes), else an export of the PyTorch definition.
onnx=${ONNX:-}
randmodel=$(dirname "$MBN")/bench/make_random_model
if [ -z "$onnx" ] && [[ " $RUNTIMES " == *" onnxruntime "* || " $RUNTIMES " == *" openvino "* ]]; then
  onnx=$out/mobilenet_v1.onnx
  if [ -x "$randmodel" ] && "$randmodel" "$out/random.safetensors" >/dev/null 2>&1 &&
    "$MBN" export --checkpoint "$out/random.safetensors" --format onnx --out "$onnx" >/dev/null 2>&1; then
    echo "ONNX model: mbn export --format onnx of a random 1.0-224 model" >&2
  elif "$PY" bench/runtimes_bench.py --make-onnx "$onnx" --threads "$T" 2>"$out/onnx.err"; then
    echo "ONNX model: exported from the PyTorch definition (tests/timm_mbv1.py)" >&2
  else
    echo "run_all: no ONNX model (PyTorch export failed: $(tail -1 "$out/onnx.err")): ONNX Runtime and OpenVINO skipped" >&2
    onnx=
  fi
fi

# name | mbn bench arguments; the names are runtimes_bench.py's workloads.
configs=(
  "infer-b1|--batch-size 1 --iterations $((IT * 8))"
  "infer-b32|--batch-size 32 --iterations $IT"
  "train-b32|--mode train --batch-size 32 --iterations $IT"
  "train-0.25-32-b64|--alpha 0.25 --resolution 32 --num-classes 10 --mode train --batch-size 64 --iterations $((IT * 10))"
)
workloads=$(printf '%s\n' "${configs[@]}" | cut -d'|' -f1 | paste -sd,)
for r in $(seq 1 "$R"); do
  echo "run $r/$R: mbn" >&2
  "$MBN" bench --alpha 0.25 --resolution 32 --batch-size 1 --iterations 1 --measure-peak --json \
    >"$out/peak_$r.json"
  for c in "${configs[@]}"; do
    IFS='|' read -r name args <<<"$c"
    # shellcheck disable=SC2086
    "$MBN" bench $args --json >"$out/mbn_${name}_$r.json"
  done
  for rt in $RUNTIMES; do
    echo "run $r/$R: $rt" >&2
    case $rt in
      onnxruntime | openvino)
        if [ -z "$onnx" ]; then echo "{\"runtime\": \"$rt\", \"skipped\": \"no ONNX model\"}" >"$out/${rt}_$r.jsonl"; continue; fi
        set -- --onnx "$onnx" ;;
      *) set -- --formats "$FORMATS" ;;
    esac
    "$PY" bench/runtimes_bench.py --runtime "$rt" --threads "$T" --workloads "$workloads" \
      --min-iters "$IT" "$@" >"$out/${rt}_$r.jsonl" 2>"$out/${rt}_$r.err" ||
      echo "{\"runtime\": \"$rt\", \"skipped\": \"failed: $(tail -1 "$out/${rt}_$r.err" | tr -d '"\\')\"}" >"$out/${rt}_$r.jsonl"
  done
  "$PY" bench/runtimes_bench.py --runtime numpy-sgemm --threads "$T" >"$out/sgemm_$r.jsonl" 2>/dev/null ||
    echo '{"runtime": "numpy-sgemm", "skipped": "failed"}' >"$out/sgemm_$r.jsonl"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
"$PY" bench/run_all_table.py "$out" "$R" "$T" "$RUNTIMES"
