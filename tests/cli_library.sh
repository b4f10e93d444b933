#!/usr/bin/env bash
# The installed library (SPEC §7): `cmake --install` puts bin/mbn, include/mbn.h, libmbn.so with
# its versioned soname, libmbn.a and lib/pkgconfig/mbn.pc under a prefix; libmbn.so exports the
# API and nothing else; examples/classify.c builds against the installed tree with
# `pkg-config --cflags --libs mbn` (shared, and statically against libmbn.a) and classifies
# images as `mbn infer` does; tests/lib_api_check.c checks the API's contract the same way.
#
# Env: MBN_BUILD_DIR (the build folder to install from; set by ctest), CC, and
# MBN_EXAMPLE_CFLAGS (the sanitizer flags when the library is built with them).
set -euo pipefail
cd "$(dirname "$0")/.."
MBN=${MBN:-build/mbn}
BUILD=${MBN_BUILD_DIR:-$(dirname "$MBN")}
CC=${CC:-cc}
read -r -a XFLAGS <<< "${MBN_EXAMPLE_CFLAGS:-}"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
P="$T/prefix"
cmake --install "$BUILD" --prefix "$P" > "$T/install.log"
lib=$(dirname "$(find "$P" -name libmbn.so -print -quit)")
for f in "$P/bin/mbn" "$P/include/mbn.h" "$lib/libmbn.so" "$lib/libmbn.so.0" "$lib/libmbn.a" \
    "$lib/pkgconfig/mbn.pc"; do
    [ -e "$f" ] || { echo "FAIL: $f not installed"; cat "$T/install.log"; exit 1; }
done
soname=$(readelf -d "$lib/libmbn.so" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
[ "$soname" = libmbn.so.0 ] || { echo "FAIL: soname $soname"; exit 1; }
exported=$(nm -D --defined-only "$lib/libmbn.so" | awk '$2 == "T" {print $3}' | sed 's/@.*//' | sort | tr '\n' ' ')
want=$(sed -n 's/^[a-z].* \**\(mbn_[a-z_]*\)(.*/\1/p' "$P/include/mbn.h" | sort | tr '\n' ' ')
[ "$exported" = "$want" ] || { echo "FAIL: exported [$exported], header declares [$want]"; exit 1; }
echo "ok   installed: bin/mbn, include/mbn.h, $(basename "$(readlink -f "$lib/libmbn.so")") (soname $soname), libmbn.a, mbn.pc; exports exactly the header's $(wc -w <<< "$want") functions"

export PKG_CONFIG_PATH="$lib/pkgconfig"
read -r -a PC <<< "$(pkg-config --cflags --libs mbn)"
"$CC" -std=c11 -Wall -Wextra -Werror "${XFLAGS[@]}" examples/classify.c "${PC[@]}" -o "$T/classify"
"$CC" -std=c11 -Wall -Wextra -Werror "${XFLAGS[@]}" tests/lib_api_check.c "${PC[@]}" -pthread -o "$T/api_check"
read -r -a PCS <<< "$(pkg-config --static --libs-only-l mbn | sed 's/-lmbn //')"
"$CC" -std=c11 "${XFLAGS[@]}" examples/classify.c $(pkg-config --cflags mbn) "$lib/libmbn.a" "${PCS[@]}" -o "$T/classify_static"
if ldd "$T/classify_static" | grep -q libmbn; then echo "FAIL: static example loads libmbn.so"; exit 1; fi
echo "ok   examples/classify.c built with pkg-config (shared) and against libmbn.a (static)"
"$P/bin/mbn" summary --alpha 0.25 --resolution 32 --json > /dev/null

# A small Fashion-MNIST model, images as PNG, a raw RGB copy of one, a corrupt file.
python3 tests/make_tiny_idx.py "$T/fashion-mnist" 512 16
"$MBN" train --data "$T/fashion-mnist" --alpha 0.25 --resolution 32 --batch-size 32 --epochs 1 \
    --no-eval --quiet --ckpt-dir "$T/run" > /dev/null
ckpt="$T/run/mobilenetv1-1_16.ckpt"
python3 tests/idx_to_png.py "$T/fashion-mnist/t10k-images-idx3-ubyte.gz" "$T/png" 8 rgb > "$T/png.list"
mapfile -t pngs < "$T/png.list"
python3 - "$T/fashion-mnist/t10k-images-idx3-ubyte.gz" "$T/img0.rgb" <<'PY'
import gzip, sys
px = gzip.open(sys.argv[1]).read()[16:16 + 28 * 28]
open(sys.argv[2], "wb").write(bytes(v for p in px for v in (p, p, p)))
PY
printf 'not an image' > "$T/corrupt.png"

LD_LIBRARY_PATH="$lib" "$T/classify" "$ckpt" "${pngs[@]}" > "$T/classify.out" 2> "$T/classify.err"
"$T/classify_static" "$ckpt" "${pngs[@]}" > "$T/classify_static.out" 2> /dev/null
"$MBN" infer --checkpoint "$ckpt" --top-k 3 --json "${pngs[@]}" > "$T/infer.json"
python3 - "$T/classify.out" "$T/infer.json" <<'PY'
import json, re, sys
lines = open(sys.argv[1]).read().splitlines()
res = json.load(open(sys.argv[2]))["results"]
assert len(lines) == len(res) == 8, (lines, len(res))
for line, r in zip(lines, res):
    path, rest = line.split(":", 1)
    assert path == r["image"], (path, r["image"])
    got = [(int(c), float(p)) for c, p in re.findall(r"  (\d+) .*? (\d\.\d{4})", rest)]
    want = [(t["class"], round(t["prob"], 4)) for t in r["top"]]
    assert got == want, (line, want)
print("ok   examples/classify through libmbn.so = mbn infer on 8 PNGs")
PY
cmp "$T/classify.out" "$T/classify_static.out" || { echo "FAIL: static and shared differ"; exit 1; }
grep -q "preprocessing: grayscale" "$T/classify.err" || { echo "FAIL: preprocessing line"; cat "$T/classify.err"; exit 1; }
if LD_LIBRARY_PATH="$lib" "$T/classify" "$ckpt" "$T/corrupt.png" > /dev/null 2> "$T/bad.err"; then
    echo "FAIL: corrupt image classified"; exit 1
fi
grep -q "classify: $T/corrupt.png" "$T/bad.err" || { echo "FAIL: $(cat "$T/bad.err")"; exit 1; }

# A fresh cache: the first model's kernels compile, and the library says so through the log
# callback, as it says the unreadable file; nothing of it on stderr.
MBN_CACHE_DIR="$T/cache1" MBN_EXPECT_FIRST_RUN=1 LD_LIBRARY_PATH="$lib" "$T/api_check" "$ckpt" \
    "${pngs[0]}" "$T/img0.rgb" 28 28 "$T/corrupt.png" 2> "$T/api.err"
if grep -q "mbn" "$T/api.err"; then
    echo "FAIL: the library printed past its callback:"
    cat "$T/api.err"
    exit 1
fi
# Again on that cache: no note.
MBN_CACHE_DIR="$T/cache1" LD_LIBRARY_PATH="$lib" "$T/api_check" "$ckpt" "${pngs[0]}" \
    "$T/img0.rgb" 28 28 "$T/corrupt.png"
# Again through CLBlast's GEMMs (what GPUs use): two threads on two models share CLBlast's
# per-context kernel cache too.
MBN_CACHE_DIR="$T/cache2" MBN_EXPECT_FIRST_RUN=1 MBN_GEMM=clblast LD_LIBRARY_PATH="$lib" \
    "$T/api_check" "$ckpt" "${pngs[0]}" "$T/img0.rgb" 28 28 "$T/corrupt.png"
