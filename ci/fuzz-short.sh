#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for a short while on its committed
# corpus (the long runs are recorded in docs/). Any crash fails CI.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${FUZZ_SECONDS:-20}
shopt -s nullglob
targets=(tests/fuzz/fuzz_*.c)
if [ ${#targets[@]} -eq 0 ]; then echo "no fuzz targets"; exit 0; fi
CC=clang cmake -S . -B build-fuzz -DMBN_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j"$(nproc)"
export ASAN_OPTIONS=detect_leaks=0
for src in "${targets[@]}"; do
    name=$(basename "$src" .c)
    corpus=tests/fuzz/corpus_${name#fuzz_}
    work=$(mktemp -d)
    if [ -d "$corpus" ]; then cp -r "$corpus"/. "$work"/; fi
    echo "fuzz: $name for ${SECONDS_EACH}s"
    ./build-fuzz/tests/fuzz/"$name" -max_total_time="$SECONDS_EACH" -print_final_stats=1 "$work" 2>&1 | tail -3
    rm -rf "$work"
done
