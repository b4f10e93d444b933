#!/usr/bin/env bash
# The layering of the code (docs/DESIGN.md): includes only downwards, no call cycles between
# source files in the build's objects, one clock and one version string. $MBN's folder is the
# build folder whose objects are read.
set -uo pipefail
MBN=${MBN:-build/mbn}
build=$(cd "$(dirname "$MBN")" && pwd)
command -v nm >/dev/null || { echo "SKIP: nm (binutils) not installed"; exit 77; }
python3 tests/check_layers.py . "$build"
