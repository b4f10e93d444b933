#!/usr/bin/env bash
# Installs what mbn needs to build, test and run on Debian 12 (bookworm): the OpenCL ICD loader
# and headers, PoCL (OpenCL on the CPU), CLBlast, libjpeg-turbo, zlib, libpng, jansson (JSON
# headers of safetensors files), CMake, and the Fashion-MNIST data set the README's main job
# trains on. protobuf-c (compiler + library) and libonnx-dev (for /usr/include/onnx/onnx.proto)
# build the ONNX export; python3-venv lets CI create the test environment with ONNX Runtime
# (ci/make-test-venv.sh). Open MPI (libopenmpi-dev, openmpi-bin) for `mpirun -np N mbn train`.
# clang + its runtime are for the fuzz targets; oclgrind (an OpenCL device simulator that checks
# every memory access) for ci/oclgrind.sh. Run as root (or through sudo).
set -euo pipefail
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
    build-essential cmake pkg-config \
    ocl-icd-opencl-dev opencl-c-headers pocl-opencl-icd clinfo \
    libclblast-dev libturbojpeg0-dev libjpeg62-turbo-dev zlib1g-dev libpng-dev libjansson-dev \
    protobuf-c-compiler libprotobuf-c-dev libonnx-dev \
    dataset-fashion-mnist \
    libopenmpi-dev openmpi-bin \
    clang libclang-rt-14-dev python3 python3-venv oclgrind >/dev/null
echo "mbn: dependencies installed"
