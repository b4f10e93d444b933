#!/usr/bin/env bash
# mbn export writes the format --out's extension names (.safetensors, .onnx; any case); --format
# names it for another extension and is refused when it contradicts the name; --json prints one
# document: the path, the format, the size in bytes and the model's configuration. (The files'
# contents are checked against PyTorch/timm and ONNX Runtime in cli_ckpt_python.sh and
# cli_onnx_export.sh.)
set -uo pipefail
MBN=${MBN:-build/mbn}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export MBN_CACHE_DIR="$T/cache"
fail=0
m=(--checkpoint tests/fixtures/timm_mbv1_025.safetensors)

kind() { # the format a file's bytes say: safetensors (8-byte header length, then JSON) or onnx
    python3 - "$1" <<'PY'
import json, struct, sys
b = open(sys.argv[1], "rb").read()
try:
    n = struct.unpack("<Q", b[:8])[0]
    json.loads(b[8:8 + n])
    print("safetensors")
except Exception:
    # ModelProto: ir_version (field 1, varint) first, the graph's outputs named in it
    print("onnx" if b[:1] == b"\x08" and b"logits" in b and b"probs" in b else "unknown")
PY
}

for out in w.safetensors m.onnx M.ONNX W.SafeTensors; do
    "$MBN" export "${m[@]}" --out "$T/$out" 2> "$T/err" || { echo "FAIL export $out"; cat "$T/err"; fail=1; continue; }
    want=$(echo "${out#*.}" | tr 'A-Z' 'a-z')
    got=$(kind "$T/$out")
    [ "$got" = "$want" ] && grep -q "as $want to $T/$out" "$T/err" ||
        { echo "FAIL --out $out wrote $got: $(cat "$T/err")"; fail=1; continue; }
    echo "ok   --out $out: $got"
done
# --format for a name without a known extension; refused when it contradicts the name.
"$MBN" export "${m[@]}" --out "$T/model.bin" --format onnx 2> /dev/null && [ "$(kind "$T/model.bin")" = onnx ] ||
    { echo "FAIL --format onnx --out model.bin"; fail=1; }
"$MBN" export "${m[@]}" --out "$T/same.onnx" --format onnx 2> /dev/null && [ "$(kind "$T/same.onnx")" = onnx ] ||
    { echo "FAIL --format onnx --out same.onnx"; fail=1; }
err=$("$MBN" export "${m[@]}" --out "$T/c.onnx" --format safetensors 2>&1)
[ $? = 2 ] && [[ "$err" == "mbn: error: --format safetensors contradicts --out $T/c.onnx"* ]] && [ ! -e "$T/c.onnx" ] ||
    { echo "FAIL contradicting --format: $err"; fail=1; }
echo "ok   --format names another extension's format, and must agree with .onnx/.safetensors"

# --json: one document on stdout.
"$MBN" export "${m[@]}" --resolution 64 --out "$T/j.onnx" --json > "$T/j.json" 2> /dev/null || { echo "FAIL --json"; fail=1; }
python3 - "$T/j.json" "$T/j.onnx" <<'PY' || fail=1
import json, os, sys
d = json.load(open(sys.argv[1]))
assert d["path"] == sys.argv[2] and d["format"] == "onnx", d
assert d["bytes"] == os.path.getsize(sys.argv[2]) > 0, d
mdl = d["model"]
assert (mdl["arch"], mdl["alpha"], mdl["resolution"], mdl["num_classes"]) == ("mobilenetv1", 0.25, 64, 10), mdl
assert mdl["tensors"] > 0 and "preprocess" in mdl, mdl
print("ok   export --json:", d["format"], d["bytes"], "bytes", mdl)
PY
exit $fail
