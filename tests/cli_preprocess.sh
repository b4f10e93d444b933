#!/usr/bin/env bash
# The preprocessing record travels with the model (SPEC §5): a model trained on IDX images
# classifies the same images saved as PNG files exactly as `mbn eval` scores them from the IDX
# files (same top-1, same mean loss, image by image the same probabilities), through the
# checkpoint and through its safetensors export; the record is in both files; a model file
# without a record (written before this change, or foreign) gets the old defaults with one note
# and gives the very numbers the previous mbn gave; a damaged or newer record is refused naming
# the key.
set -euo pipefail
cd "$(dirname "$0")/.."
MBN=${MBN:-build/mbn}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
python3 tests/make_tiny_idx.py "$T/fashion-mnist" 512 256
"$MBN" train --data "$T/fashion-mnist" --alpha 0.25 --resolution 32 --batch-size 32 --epochs 3 \
    --no-eval --quiet --keep-checkpoint-max 1 --ckpt-dir "$T/run"
ckpt="$T/run/mobilenetv1-3_16.ckpt"

# The record is in the checkpoint (read by the independent Python reader) and in the export.
python3 tests/ckpt_inspect.py "$ckpt" > "$T/ckpt.json"
"$MBN" export --checkpoint "$ckpt" --out "$T/model.safetensors" 2> /dev/null
python3 - "$T/ckpt.json" "$T/model.safetensors" <<'PY'
import json, struct, sys
meta = json.load(open(sys.argv[1]))["meta"]
b = open(sys.argv[2], "rb").read()
st = json.loads(b[8:8 + struct.unpack("<Q", b[:8])[0]])["__metadata__"]
want = {"preprocess.version": "1", "preprocess.resolution": "32", "preprocess.channels": "gray",
        "preprocess.pad_to": "32", "preprocess.resize": "shorter_side_center_crop",
        "preprocess.crop_fraction": "1", "preprocess.interpolation": "bilinear",
        "preprocess.pixel_divisor": "255", "preprocess.mean": "0.485,0.456,0.406",
        "preprocess.std": "0.229,0.224,0.225", "preprocess.layout": "NHWC"}
for k, v in want.items():
    assert meta.get(k) == v, ("checkpoint", k, meta.get(k))
    assert st.get(k) == v, ("safetensors", k, st.get(k))
print("ok   the record is in the checkpoint and in the safetensors export")
PY

# The first 256 test images as PNG files, grayscale and RGB (same pixels).
python3 tests/idx_to_png.py "$T/fashion-mnist/t10k-images-idx3-ubyte.gz" "$T/gray" 256 gray > "$T/gray.list"
python3 tests/idx_to_png.py "$T/fashion-mnist/t10k-images-idx3-ubyte.gz" "$T/rgb" 256 rgb > "$T/rgb.list"
"$MBN" eval --data "$T/fashion-mnist" --checkpoint "$ckpt" --json --quiet > "$T/eval.json"
mapfile -t gray < "$T/gray.list"
mapfile -t rgb < "$T/rgb.list"
"$MBN" infer --checkpoint "$ckpt" --top-k 10 --json "${gray[@]}" > "$T/gray.json" 2> "$T/gray.err"
"$MBN" infer --checkpoint "$ckpt" --top-k 10 --json "${rgb[@]}" > "$T/rgb.json"
"$MBN" infer --checkpoint "$T/model.safetensors" --top-k 10 --json "${gray[@]}" > "$T/st.json"
if grep -q "no preprocessing record" "$T/gray.err"; then echo "FAIL: note for a recorded model"; exit 1; fi
python3 - "$T" <<'PY'
import gzip, json, math, sys
T = sys.argv[1]
ev = json.load(open(T + "/eval.json"))
labels = gzip.open(T + "/fashion-mnist/t10k-labels-idx1-ubyte.gz").read()[8:]
def score(path):
    res = json.load(open(path))["results"]
    assert len(res) == 256, len(res)
    top1 = sum(r["top"][0]["class"] == labels[i] for i, r in enumerate(res)) / len(res)
    loss = sum(-math.log(next(t["prob"] for t in r["top"] if t["class"] == labels[i]))
               for i, r in enumerate(res)) / len(res)
    return top1, loss, [[(t["class"], t["prob"]) for t in r["top"]] for r in res]
g1, gl, gp = score(T + "/gray.json")
r1, rl, rp = score(T + "/rgb.json")
s1, sl, sp = score(T + "/st.json")
# Same pixels, same pipeline: eval's top-1 exactly; its mean loss (float32 probabilities summed
# in double by both) to 1e-6 relative, which no other preprocessing comes near.
assert g1 == ev["top1"], (g1, ev)
assert abs(gl - ev["loss"]) <= 1e-6 * ev["loss"], (gl, ev)
assert gp == rp == sp, "gray PNG, RGB PNG and the safetensors export disagree"
print("ok   infer on PNG = eval on IDX: top-1 %.4f, loss %.6f (eval %.4f, %.6f)"
      % (g1, gl, ev["top1"], ev["loss"]))
PY

# The same in fp16 (--precision fp16: half weights and activations): infer on the PNG files
# scores what eval scores on the IDX files, and every probability is within 1e-2 of fp32's.
"$MBN" eval --data "$T/fashion-mnist" --checkpoint "$ckpt" --precision fp16 --json --quiet \
    > "$T/eval16.json"
"$MBN" infer --checkpoint "$ckpt" --precision fp16 --top-k 10 --json "${gray[@]}" > "$T/gray16.json"
python3 - "$T" <<'PY'
import gzip, json, math, sys
T = sys.argv[1]
ev = json.load(open(T + "/eval16.json"))
assert ev["precision"] == "fp16", ev
labels = gzip.open(T + "/fashion-mnist/t10k-labels-idx1-ubyte.gz").read()[8:]
res16, res32 = (json.load(open(T + f))["results"] for f in ("/gray16.json", "/gray.json"))
top1 = sum(r["top"][0]["class"] == labels[i] for i, r in enumerate(res16)) / len(res16)
loss = sum(-math.log(next(t["prob"] for t in r["top"] if t["class"] == labels[i]))
           for i, r in enumerate(res16)) / len(res16)
assert top1 == ev["top1"] and abs(loss - ev["loss"]) <= 1e-6 * ev["loss"], (top1, loss, ev)
diff = max(abs(dict((t["class"], t["prob"]) for t in a["top"])[k] - p)
           for a, b in zip(res16, res32) for k, p in ((t["class"], t["prob"]) for t in b["top"]))
assert diff <= 1e-2, diff
print("ok   fp16: infer on PNG = eval on IDX: top-1 %.4f, loss %.6f; probabilities within %.2g "
      "of fp32's" % (top1, loss, diff))
PY

# Files written before the record existed (tests/fixtures/old_format, by mbn at commit 8e74bda):
# one note, and exactly the numbers that mbn printed for them.
old=tests/fixtures/old_format/fmnist_a005_r32
for f in "$old.ckpt" "$old.safetensors"; do
    "$MBN" eval --data "$T/fashion-mnist" --checkpoint "$f" --json --quiet > "$T/old.json" 2> "$T/old.err"
    [ "$(grep -c "has no preprocessing record" "$T/old.err")" = 1 ] || { echo "FAIL: note"; cat "$T/old.err"; exit 1; }
    python3 - "$T/old.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
want = {"top1": 0.6171875, "top5": 0.9921875, "loss": 1.0833447, "images": 256}
assert all(d[k] == v for k, v in want.items()), (d, want)
PY
    "$MBN" infer --checkpoint "$f" --top-k 3 --json "${gray[0]}" "${gray[1]}" > "$T/old_infer.json" 2> /dev/null
    python3 - "$T/old_infer.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
got = [[(t["class"], t["prob"]) for t in x["top"]] for x in r]
want = [[(9, 0.333091617), (7, 0.298945934), (5, 0.174752742)],
        [(2, 0.261943996), (6, 0.250265509), (4, 0.239987478)]]
assert got == want, got
PY
done
echo "ok   old checkpoint and safetensors: one note, the previous mbn's eval and infer numbers"

# A damaged or newer record is refused, naming the key.
python3 - "$T/model.safetensors" "$T" <<'PY'
import json, struct, sys
b = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", b[:8])[0]
head, body = json.loads(b[8:8 + n]), b[8 + n:]
def write(name, **changes):
    h = json.loads(json.dumps(head))
    h["__metadata__"].update(changes)
    text = json.dumps(h).encode()
    text += b" " * (-len(text) % 8)
    open(sys.argv[2] + "/" + name, "wb").write(struct.pack("<Q", len(text)) + text + body)
write("bgr.safetensors", **{"preprocess.channels": "bgr"})
write("v2.safetensors", **{"preprocess.version": "2"})
write("std0.safetensors", **{"preprocess.std": "0.2,0,0.2"})
PY
for bad in bgr:preprocess.channels v2:"version 2 is newer" std0:preprocess.std; do
    f=${bad%%:*}; want=${bad#*:}
    if err=$("$MBN" infer --checkpoint "$T/$f.safetensors" "${gray[0]}" 2>&1); then
        echo "FAIL: $f accepted"; exit 1
    fi
    [[ "$err" == *"$f.safetensors"*"$want"* ]] || { echo "FAIL: unclear error for $f: $err"; exit 1; }
done
echo "ok   bad or newer records refused naming the file and key"
