#!/usr/bin/env bash
# Creates the Python virtual environment the ONNX tests run in (tests/cli_onnx_export.sh):
# ONNX Runtime, onnx (its checker) and numpy from PyPI, in .venv-test/ at the repository root
# (ignored by git; tests find it there, or through $MBN_TEST_PYTHON). Without it those tests
# report SKIPPED. Usage: ci/make-test-venv.sh [DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-.venv-test}
if [ ! -x "$dir/bin/python" ]; then
    python3 -m venv "$dir"
fi
"$dir/bin/python" -m pip install --quiet --disable-pip-version-check onnxruntime onnx numpy
"$dir/bin/python" -c 'import onnxruntime, onnx, numpy; print("test venv:", onnxruntime.__version__, onnx.__version__, numpy.__version__)'
