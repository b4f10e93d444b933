#!/usr/bin/env bash
# Batch-1 latency of MobileNet V1 1.0-224: mbn next to ONNX Runtime and OpenVINO on the CPU, in
# one run with the same thread count (bench/deploy_latency.py has the details), and mbn's device
# memory for inference and training. Prints the markdown table of docs/PERFORMANCE.md.
#
#   bench/deploy_latency.sh [VENV] [extra args for deploy_latency.py]
#
# VENV (default .venv-bench) is created with onnxruntime, openvino and numpy from PyPI when it
# has none of them; BUILD (default build) is built first.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${1:-.venv-bench}
shift || true
BUILD=${BUILD:-build}
cmake --build "$BUILD" -j"$(nproc)" --target mbn make_random_model lib_latency >/dev/null
if ! "$venv/bin/python" -c 'import onnxruntime, openvino, numpy' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check onnxruntime openvino numpy
fi
exec "$venv/bin/python" bench/deploy_latency.py --build "$BUILD" "$@"
