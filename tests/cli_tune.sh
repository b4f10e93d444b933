#!/usr/bin/env bash
# mbn tune: writes the device's tuning cache within its budget; every command then uses it
# (bench says tuned, with its id, and runs the decided variants and parameters); the same
# device and cache give the same bits; a damaged (truncated, bit-flipped) or foreign (other
# device, other mbn build) cache, or one naming rows this build rejects, is ignored with one
# warning; a candidate whose outputs differ from the default's never wins; checkpoints record
# the tuning and resuming under another one warns once; bad flags exit 2.
set -euo pipefail
MBN=${MBN:-build/mbn}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export MBN_CACHE_DIR=$T/cache
unset MBN_KERNELS MBN_NO_TUNING
small=(--alpha 0.25 --resolution 32 --num-classes 10)

# The device's GEMM tile (it follows the vector width: 7x32 on AVX-512, 6x16 on AVX2), for the
# hand-made caches below.
tile=$("$MBN" devices --json | python3 -c "
import json, sys
p = json.load(sys.stdin)['devices'][0]['kernels']['ops']['gemm']['params']
print('TM=%d TN=%d' % (p['TM'], p['TN']))")

# A short tune (budget 0.15 min): JSON keys, a cache file, and the budget respected.
# MBN_TUNE_TEST_STORE=1 stores the result even when nothing won (9 s on a tiny network may find
# nothing faster): this part tests the cache, the no-win case is tested further down.
start=$(date +%s)
MBN_TUNE_TEST_STORE=1 "$MBN" tune "${small[@]}" --mode infer --batch-size 4 --budget-minutes 0.15 \
    --json --export "$T/entry.txt" >"$T/tune.json" 2>"$T/tune.err"
took=$(($(date +%s) - start))
python3 - "$T/tune.json" "$took" <<'PY'
import json, os, sys
doc = json.load(open(sys.argv[1]))
(r,) = doc["results"]
for k in ("device", "mode", "batch", "tuning", "cache", "default_ms", "tuned_ms", "speedup",
          "tried", "rejected_wrong", "failed", "budget_ran_out", "decisions"):
    assert k in r, k
assert r["mode"] == "infer" and r["batch"] == 4
assert r["tuning"].startswith("tune-") and len(r["tuning"]) == 17, r["tuning"]
assert os.path.isfile(r["cache"]), r["cache"]
assert set(r["decisions"]) >= {"dw_fwd", "gemm"}, r["decisions"]
assert r["default_ms"] > 0 and r["tuned_ms"] > 0 and r["tuned_ms"] <= r["default_ms"]
# 9 s budget; opening a device and the final comparison may overrun it a little.
assert int(sys.argv[2]) < 60, f"took {sys.argv[2]} s"
print(f"ok  tune --json: {r['tried']} candidates, {r['tuning']}, {sys.argv[2]} s")
PY
cache=$(python3 -c "import json,sys; print(json.load(open('$T/tune.json'))['results'][0]['cache'])")
id=$(python3 -c "import json,sys; print(json.load(open('$T/tune.json'))['results'][0]['tuning'])")
# --export: one database entry for the device, its decisions those of the cache, which mbn
# reads as a database (MBN_TUNE_DATABASE=FILE replaces the shipped one).
python3 - "$T/entry.txt" "$cache" <<'PY'
import sys
entry = [l for l in open(sys.argv[1]).read().splitlines() if l and not l.startswith("#")]
assert entry[0] == "entry" and entry[-1] == "end", entry
keys = [l.split(" ", 1)[0] for l in entry[1:6]]
assert keys == ["vendor", "platform", "class", "device", "source"], keys
assert entry[3].startswith("class CPU"), entry[3]
strip = lambda l: l.split(" # ")[0]
ops = sorted(strip(l) for l in entry if l.startswith(("op ", "clblast ")))
cached = sorted(strip(l) for l in open(sys.argv[2]).read().splitlines() if l.startswith(("op ", "clblast ")))
assert ops == cached and ops, (ops, cached)
print("ok  tune --export: a database entry with the cache's %d decisions" % len(ops))
PY
MBN_CACHE_DIR="$T/empty" MBN_TUNE_DATABASE="$T/entry.txt" "$MBN" devices --json >"$T/dev.json"
MBN_CACHE_DIR="$T/empty" MBN_TUNE_DATABASE="$T/entry.txt" "$MBN" bench "${small[@]}" --mode infer \
    --batch-size 4 --iterations 1 --json >"$T/b.json"
python3 - "$T/dev.json" "$T/b.json" <<'PY' || { echo "FAIL the exported entry does not apply as a database"; exit 1; }
import json, sys
d = json.load(open(sys.argv[1]))["devices"][0]
t = d["tuning"]
assert t["cache"] is None and t["database_decisions"] > 0, t
assert any(e.startswith("gemm (infer): ") and e.endswith("device " + d["name"])
           for e in t["database_entries"]), t
r = json.load(open(sys.argv[2]))["results"][0]
assert r["tuning"] is None and r["database_decisions"] > 0, r
srcs = r["kernels"]["ops"]["gemm"]["sources"]
assert set(srcs.values()) == {"database"}, srcs
PY
echo "ok  the exported entry applies as a database (MBN_TUNE_DATABASE)"

bench_json() { # extra env assignments may precede: runs bench, JSON to $T/b.json, stderr to $T/b.err
    "$MBN" bench "${small[@]}" --batch-size 4 --iterations 1 --json "$@" >"$T/b.json" 2>"$T/b.err"
    # Other kernel parameters compile for the first time: that note is not a warning.
    sed -i '/^mbn: compiling kernels for .* (first run only)$/d' "$T/b.err"
}
field() { python3 -c "import json; r=json.load(open('$T/b.json'))['results'][0]; print($1)"; }
bench_json
[ "$(field 'r["tuned"]')" = True ] && [ "$(field 'r["tuning"]')" = "$id" ] ||
    { echo "FAIL bench does not run tuned: $(cat "$T/b.json")"; exit 1; }
MBN_NO_TUNING=1 bench_json
[ "$(field 'r["tuned"]')" = False ] || { echo "FAIL MBN_NO_TUNING=1 still tuned"; exit 1; }
MBN_KERNELS=generic bench_json
[ "$(field 'r["tuned"]')" = False ] || { echo "FAIL MBN_KERNELS=generic still tuned"; exit 1; }
echo "ok  bench runs tuned ($id), untuned with MBN_NO_TUNING=1 or a forced family"

# A cache with decisions other than the defaults, written as mbn writes it (the id is the
# FNV-1a hash of the decision lines, the checksum a CRC-32 of everything before it).
rewrite() { # file, then python statements editing `lines` (list of lines without the id/checksum)
    python3 - "$@" <<'PY'
import sys, zlib
path, code = sys.argv[1], sys.argv[2]
text = open(path).read().splitlines()
lines = [l for l in text if not l.startswith(("id ", "checksum "))]
exec(code)
head = [l for l in lines if not l.startswith(("op ", "clblast "))]
# mbn hashes the decisions training set first, each in its op order, CLBlast sets last.
order = ["dw_fwd", "dw_bwd_input", "dw_bwd_weight", "bn_fwd", "bn_bwd", "gemm", "gemm_wgrad"]
uses = ["train", "infer"]
ops = sorted((l for l in lines if l.startswith("op ")),
             key=lambda l: (uses.index(l.split()[1]), order.index(l.split()[2])))
ops += [l for l in lines if l.startswith("clblast ")]
h = 0xcbf29ce484222325
for b in "".join(l.split(" # ")[0] + "\n" for l in ops).encode():
    h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
body = "\n".join(head + ["id tune-%012x" % (h & 0xFFFFFFFFFFFF)] + ops) + "\n"
body += "checksum %08x\n" % zlib.crc32(body.encode())
open(path, "w").write(body)
PY
}
cp "$cache" "$T/orig.txt"
rewrite "$cache" '
lines = [l for l in lines if not l.startswith("op ")]
lines += ["op train gemm gemm.cpu_tiled '"$tile"' PANEL_FLOATS=32768 RUN=128",
          "op train bn_fwd bn_fwd.generic CHUNKS=64 MIN_ROWS=16",
          "op infer gemm gemm.cpu_tiled '"$tile"' PANEL_FLOATS=65536 RUN=512 # infer 0.25-32 batch 4"]'
bench_json --mode train
[ ! -s "$T/b.err" ] || { echo "FAIL a valid hand-made cache warned: $(cat "$T/b.err")"; exit 1; }
[ "$(field 'r["kernels"]["ops"]["gemm"]["params"]["RUN"]')" = 128 ] &&
    [ "$(field 'r["kernels"]["ops"]["bn_fwd"]["variant"]')" = bn_fwd.generic ] &&
    [ "$(field 'r["kernels"]["ops"]["bn_fwd"]["params"]["CHUNKS"]')" = 64 ] ||
    { echo "FAIL cached training decisions not applied: $(field 'r["kernels"]')"; exit 1; }
bench_json --mode infer
[ "$(field 'r["kernels"]["ops"]["gemm"]["params"]["RUN"]')" = 512 ] &&
    [ "$(field 'r["kernels"]["ops"]["bn_fwd"]["variant"]')" = bn_fwd.generic ] ||
    { echo "FAIL cached inference decisions not applied: $(field 'r["kernels"]')"; exit 1; }
echo "ok  the cache's decisions are what bench runs (training set; inference set, else training's)"
# Same device, same cache: same bits (logits and loss after two training steps).
MBN_BENCH_DUMP="$T/d1.txt" "$MBN" bench "${small[@]}" --mode train --batch-size 4 --iterations 2 --json >/dev/null
MBN_BENCH_DUMP="$T/d2.txt" "$MBN" bench "${small[@]}" --mode train --batch-size 4 --iterations 2 --json >/dev/null
cmp "$T/d1.txt" "$T/d2.txt" && echo "ok  same device and cache: same bits"
good=$(cat "$cache")

# Damaged or foreign caches: one warning naming the file, untuned run, status 0.
ignored() { # description, then a command damaging $cache
    local what=$1
    shift
    printf '%s\n' "$good" >"$cache"
    "$@"
    bench_json --device 0,0 # opens the device twice: still one warning
    local n
    n=$(grep -c "warning: ignoring tuning cache $cache" "$T/b.err" || true)
    if [ "$n" != 1 ] || [ "$(wc -l <"$T/b.err")" != 1 ] || [ "$(field 'r["tuned"]')" != False ]; then
        echo "FAIL $what: $(cat "$T/b.err") tuned=$(field 'r["tuned"]')"
        exit 1
    fi
    echo "ok  $what cache ignored with one warning: $(cut -d'(' -f2 "$T/b.err" | cut -d')' -f1)"
}
ignored truncated truncate -s 100 "$cache"
ignored empty truncate -s 0 "$cache"
ignored bit-flipped python3 -c "
p='$cache'; b=bytearray(open(p,'rb').read()); i=b.index(b'op train gemm')+9; b[i]^=0x04; open(p,'wb').write(bytes(b))"
ignored "other device" rewrite "$cache" 'lines = [("device Some Other GPU" if l.startswith("device ") else l) for l in lines]'
ignored "other mbn build" rewrite "$cache" 'lines = [("build 0123456789abcdef" if l.startswith("build ") else l) for l in lines]'
ignored "other driver" rewrite "$cache" 'lines = [("driver 0.0" if l.startswith("driver ") else l) for l in lines]'
ignored "unknown row" rewrite "$cache" 'lines = [l.replace("gemm.cpu_tiled", "gemm.no_such_row") for l in lines]'
ignored "value not a candidate" rewrite "$cache" 'lines = [l.replace("RUN=128", "RUN=333") for l in lines]'
ignored "wrong id" python3 -c "
import zlib
p = '$cache'
t = open(p).read().split('checksum ')[0]
t = '\n'.join(('id tune-000000000000' if l.startswith('id ') else l) for l in t.splitlines()) + '\n'
open(p, 'w').write(t + 'checksum %08x\n' % zlib.crc32(t.encode()))"
printf '%s\n' "$good" >"$cache"

# The correctness gate: with every candidate's outputs corrupted, nothing may win; a run where
# nothing wins stores nothing (the cache stays byte for byte as it was).
cp "$cache" "$T/before.txt"
MBN_TUNE_TEST_CORRUPT=1 "$MBN" tune "${small[@]}" --mode infer --batch-size 4 --budget-minutes 0.1 \
    >"$T/bad.txt" 2>"$T/bad.err"
MBN_TUNE_TEST_CORRUPT=1 "$MBN" tune "${small[@]}" --mode infer --batch-size 4 --budget-minutes 0.1 \
    --json >"$T/bad.json" 2>>"$T/bad.err"
python3 - "$T/bad.json" <<'PY'
import json, sys
(r,) = json.load(open(sys.argv[1]))["results"]
assert r["tried"] > 0 and r["rejected_wrong"] == r["tried"] - r["failed"], r
assert r["saved"] is False and r["tuning"] is None, r
d = r["decisions"]
assert d["gemm"]["variant"] == "gemm.cpu_tiled" and d["dw_fwd"]["variant"] == "dw_fwd.cpu_row", d
print(f"ok  corrupted candidates: {r['rejected_wrong']} of {r['tried']} rejected, defaults kept")
PY
grep -q "rejected: logits off by" "$T/bad.err"
grep -q "nothing beat the defaults" "$T/bad.txt" || { echo "FAIL no-win text: $(cat "$T/bad.txt")"; exit 1; }
cmp -s "$cache" "$T/before.txt" || { echo "FAIL a run that won nothing changed the cache"; exit 1; }
echo "ok  nothing won: nothing stored, and said so"
# A stored inference run replaces the inference set and keeps the training set.
MBN_TUNE_TEST_STORE=1 "$MBN" tune "${small[@]}" --mode infer --batch-size 4 --budget-minutes 0.05 \
    --json >/dev/null 2>&1
grep -q "^op train bn_fwd bn_fwd.generic CHUNKS=64" "$cache" && ! grep -q "RUN=512" "$cache" ||
    { echo "FAIL tune --mode infer did not keep the training decisions: $(cat "$cache")"; exit 1; }
echo "ok  tune --mode infer keeps the training set"

# Checkpoints record the tuning; resuming under another warns once.
python3 tests/make_tiny_idx.py "$T/fm" 64 32
train=(--data "$T/fm" "${small[@]}" --batch-size 16 --epochs 2 --quiet --no-eval --ckpt-dir "$T/run")
"$MBN" train "${train[@]}" --max-steps 4 >/dev/null 2>&1
python3 tests/ckpt_inspect.py "$T/run/mobilenetv1-1_4.ckpt" >"$T/ck.json"
rec=$(python3 -c "import json; print(json.load(open('$T/ck.json'))['meta']['tuning'])")
[[ "$rec" == tune-* ]] || { echo "FAIL checkpoint tuning record: $rec"; exit 1; }
"$MBN" train "${train[@]}" --resume auto --max-steps 6 >/dev/null 2>"$T/resume1.err"
! grep -q "kernel tuning" "$T/resume1.err" || { echo "FAIL warned under the same tuning"; exit 1; }
MBN_NO_TUNING=1 "$MBN" train "${train[@]}" --resume auto >/dev/null 2>"$T/resume.err"
n=$(grep -c "trained under kernel tuning $rec, this run uses untuned" "$T/resume.err" || true)
[ "$n" = 1 ] || { echo "FAIL resume warning ($n): $(cat "$T/resume.err")"; exit 1; }
echo "ok  checkpoint records $rec; resuming untuned warns once, under the same tuning not at all"

# Usage errors.
for args in "--budget-minutes 0" "--budget-minutes -1" "--mode sideways" "--batch-size 0" "--bogus"; do
    set +e
    # shellcheck disable=SC2086
    err=$("$MBN" tune $args 2>&1 >/dev/null)
    st=$?
    set -e
    [ "$st" = 2 ] && [[ "$err" == "mbn: error: "* ]] || { echo "FAIL tune $args: $st $err"; exit 1; }
done
set +e
err=$(MBN_KERNELS=cpu "$MBN" tune "${small[@]}" 2>&1 >/dev/null)
st=$?
set -e
[ "$st" = 2 ] && [[ "$err" == *MBN_KERNELS* ]] || { echo "FAIL MBN_KERNELS=cpu tune: $st $err"; exit 1; }
echo "ok  bad flags exit 2"
