#!/usr/bin/env bash
# mbn export --format onnx: onnx.checker (full check, with shape inference) accepts the file; ONNX
# Runtime gives the probabilities `mbn infer --json` gives on the same images within 1e-4, at
# batch 1, 3 and 64 (dynamic batch), with the input built exactly as the file's preprocess.*
# metadata says; --precision fp16 writes float16 folded weights and activations that ONNX
# Runtime runs to mbn infer --precision fp16's probabilities (within 1e-2); a timm model
# exported through mbn reproduces timm's own logits; the common flags are checked against the
# file and a failed export leaves no file.
#
# Needs Python with onnxruntime, onnx and numpy: $MBN_TEST_PYTHON, else .venv-test/bin/python
# (ci/make-test-venv.sh creates it). Without them the test reports SKIPPED (exit 77), or fails
# when MBN_REQUIRE_ONNX_TEST=1 (CI).
set -euo pipefail
cd "$(dirname "$0")/.."
MBN=${MBN:-build/mbn}
PY=${MBN_TEST_PYTHON:-.venv-test/bin/python}
if ! "$PY" -c 'import onnxruntime, onnx, numpy' 2> /dev/null; then
    echo "SKIPPED: no Python with onnxruntime, onnx and numpy at $PY (run ci/make-test-venv.sh)"
    # CI sets this: there the test must really run.
    [ "${MBN_REQUIRE_ONNX_TEST:-0}" = 1 ] && { echo "FAIL: MBN_REQUIRE_ONNX_TEST=1"; exit 1; }
    exit 77
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
python3 tests/make_tiny_idx.py "$T/fashion-mnist" 512 64
"$MBN" train --data "$T/fashion-mnist" --alpha 0.25 --resolution 32 --batch-size 32 --epochs 2 \
    --no-eval --quiet --keep-checkpoint-max 1 --ckpt-dir "$T/run" > /dev/null
ckpt="$T/run/mobilenetv1-2_16.ckpt"
"$MBN" export --checkpoint "$ckpt" --format onnx --out "$T/model.onnx" 2> /dev/null
python3 tests/idx_to_png.py "$T/fashion-mnist/t10k-images-idx3-ubyte.gz" "$T/png" 64 gray > "$T/png.list"
mapfile -t pngs < "$T/png.list"
"$MBN" infer --checkpoint "$ckpt" --top-k 10 --json "${pngs[@]}" > "$T/infer.json"

"$PY" - "$T" <<'PY'
import gzip, json, sys
import numpy as np
import onnx
import onnxruntime as ort

T = sys.argv[1]
model = onnx.load(T + "/model.onnx")
onnx.checker.check_model(model, full_check=True)
assert model.opset_import[0].version >= 13, model.opset_import
ops = sorted({n.op_type for n in model.graph.node})
assert ops == ["BatchNormalization", "Clip", "Conv", "Flatten", "Gemm", "GlobalAveragePool",
               "Softmax"], ops
dw = [n for n in model.graph.node if n.op_type == "Conv" and n.name.startswith("dw")]
assert len(dw) == 13 and all(a.i > 1 for n in dw for a in n.attribute if a.name == "group")
meta = {p.key: p.value for p in model.metadata_props}
print("ok   onnx.checker accepts it; opset %d; ops %s" % (model.opset_import[0].version, ops))

# The input exactly as the metadata says: gray replicated, 28x28 zero-padded to 32 (centred),
# shorter side to round(32 / 1) = 32 and a centre crop of 32: the padded image itself.
assert meta["preprocess.channels"] == "gray" and meta["preprocess.pad_to"] == "32", meta
assert meta["preprocess.crop_fraction"] == "1" and meta["preprocess.resolution"] == "32", meta
assert meta["preprocess.layout"] == "NCHW" and meta["preprocess.pixel_divisor"] == "255", meta
assert "preprocessed as the model was trained" in model.doc_string, model.doc_string
mean = np.array([float(v) for v in meta["preprocess.mean"].split(",")], np.float32)
std = np.array([float(v) for v in meta["preprocess.std"].split(",")], np.float32)
raw = gzip.open(T + "/fashion-mnist/t10k-images-idx3-ubyte.gz").read()[16:]
img = np.frombuffer(raw, np.uint8).reshape(-1, 28, 28)[:64].astype(np.float32)
padded = np.zeros((64, 32, 32), np.float32)
padded[:, 2:30, 2:30] = img
x = ((padded[:, None] / 255.0 - mean[None, :, None, None]) / std[None, :, None, None])
x = x.astype(np.float32)

opts = ort.SessionOptions()
opts.intra_op_num_threads = 2
sess = ort.InferenceSession(T + "/model.onnx", opts, providers=["CPUExecutionProvider"])
shape = sess.get_inputs()[0].shape
assert isinstance(shape[0], str) and shape[1:] == [3, 32, 32], shape
p64 = sess.run(["probs"], {"input": x})[0]
p1 = np.concatenate([sess.run(["probs"], {"input": x[i:i + 1]})[0] for i in range(5)])
p3 = sess.run(["probs"], {"input": x[:3]})[0]
logits = sess.run(["logits"], {"input": x[:3]})[0]
assert np.abs(p1 - p64[:5]).max() < 1e-6 and np.abs(p3 - p64[:3]).max() < 1e-6
softmax = np.exp(logits - logits.max(1, keepdims=True))
assert np.abs(softmax / softmax.sum(1, keepdims=True) - p3).max() < 1e-6

mbn = np.zeros((64, 10), np.float32)
for i, r in enumerate(json.load(open(T + "/infer.json"))["results"]):
    for t in r["top"]:
        mbn[i, t["class"]] = t["prob"]
err = np.abs(mbn - p64).max()
assert err <= 1e-4, err
print("ok   ONNX Runtime = mbn infer on 64 images: max |dp| %.2g (batches 1, 3, 64 agree)" % err)
PY

# --precision fp16: float16 initializers and activations, float input and outputs, as
# --precision fp16 runs; ONNX Runtime on it gives mbn infer --precision fp16's probabilities.
"$MBN" export --checkpoint "$ckpt" --format onnx --precision fp16 --out "$T/model16.onnx" 2> /dev/null
"$MBN" infer --checkpoint "$ckpt" --precision fp16 --top-k 10 --json "${pngs[@]}" > "$T/infer16.json"
"$PY" - "$T" <<'PY'
import gzip, json, sys
import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto

T = sys.argv[1]
model = onnx.load(T + "/model16.onnx")
onnx.checker.check_model(model, full_check=True)
meta = {p.key: p.value for p in model.metadata_props}
assert meta["precision"] == "fp16", meta
types = {i.name: i.data_type for i in model.graph.initializer}
folded = [n for n in types if n.endswith("_folded")]
assert len(folded) == 2 * 26 and all(types[n] == TensorProto.FLOAT16 for n in folded), types
assert types["conv_stem.weight"] == types["classifier.weight"] == TensorProto.FLOAT, types
for v in list(model.graph.input) + list(model.graph.output):
    assert v.type.tensor_type.elem_type == TensorProto.FLOAT, v
casts = [n for n in model.graph.node if n.op_type == "Cast"]
assert len(casts) == 2, casts

raw = gzip.open(T + "/fashion-mnist/t10k-images-idx3-ubyte.gz").read()[16:]
img = np.frombuffer(raw, np.uint8).reshape(-1, 28, 28)[:64].astype(np.float32)
padded = np.zeros((64, 32, 32), np.float32)
padded[:, 2:30, 2:30] = img
mean = np.array([float(v) for v in meta["preprocess.mean"].split(",")], np.float32)
std = np.array([float(v) for v in meta["preprocess.std"].split(",")], np.float32)
x = ((padded[:, None] / 255.0 - mean[None, :, None, None]) / std[None, :, None, None])
x = x.astype(np.float32)
opts = ort.SessionOptions()
opts.intra_op_num_threads = 2
p16 = ort.InferenceSession(T + "/model16.onnx", opts, providers=["CPUExecutionProvider"]).run(
    ["probs"], {"input": x})[0]
p32 = ort.InferenceSession(T + "/model.onnx", opts, providers=["CPUExecutionProvider"]).run(
    ["probs"], {"input": x})[0]
assert p16.dtype == np.float32, p16.dtype
mbn = np.zeros((64, 10), np.float32)
for i, r in enumerate(json.load(open(T + "/infer16.json"))["results"]):
    for t in r["top"]:
        mbn[i, t["class"]] = t["prob"]
err, vs32 = np.abs(mbn - p16).max(), np.abs(p16 - p32).max()
# Both round the same values to float16 at the same places (ONNX Runtime adds the bias in
# float16, mbn in float), so they differ by what each differs from float32 by: within the
# 1e-2 the fp16 path is held to against fp32 (docs/DEPLOY.md); a wrong fold or layer is off by
# the size of the probabilities.
assert err <= 1e-2, err
print("ok   fp16 ONNX: float16 folded weights and activations, float input and outputs; ONNX "
      "Runtime = mbn infer --precision fp16: max |dp| %.2g (fp16 vs fp32 in ONNX Runtime: %.2g)"
      % (err, vs32))
PY

# Debian's python3-onnx (1.12), when installed, accepts it too.
if /usr/bin/python3 -c 'import onnx' 2> /dev/null; then
    /usr/bin/python3 -c 'import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True); print("ok   Debian python3-onnx", onnx.__version__, "accepts it")' "$T/model.onnx"
fi

# A timm model (foreign safetensors, no record) through mbn to ONNX reproduces timm's logits
# on timm's input (tests/make_timm_fixture.py wrote both with PyTorch).
"$MBN" export --checkpoint tests/fixtures/timm_mbv1_025.safetensors --resolution 32 --format onnx \
    --out "$T/timm.onnx" 2> "$T/timm.err"
grep -q "no preprocessing record" "$T/timm.err" || { echo "FAIL: no note"; exit 1; }
"$PY" - "$T/timm.onnx" <<'PY'
import json, struct, sys
import numpy as np
import onnx
import onnxruntime as ort
b = open("tests/fixtures/timm_mbv1_025_io.safetensors", "rb").read()
n = struct.unpack("<Q", b[:8])[0]
head, body = json.loads(b[8:8 + n]), b[8 + n:]
def tensor(name):
    o = head[name]["data_offsets"]
    return np.frombuffer(body[o[0]:o[1]], np.float32).reshape(head[name]["shape"])
model = onnx.load(sys.argv[1])
onnx.checker.check_model(model, full_check=True)
meta = {p.key: p.value for p in model.metadata_props}
assert meta["preprocess.source"].startswith("defaults"), meta
assert meta["preprocess.crop_fraction"] == "0.875" and meta["preprocess.pad_to"] == "0", meta
sess = ort.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])
got = sess.run(["logits"], {"input": tensor("input")})[0]
want = tensor("logits")
# As tests/test_timm_interchange.c: 1e-4 of the largest logit. float32 sums in another order
# than PyTorch's differ by ~1e-6 relative per layer over 28 layers.
err = np.abs(got - want).max() / np.abs(want).max()
assert err <= 1e-4, err
print("ok   timm weights -> mbn ONNX -> ONNX Runtime = timm's logits (max rel %.2g)" % err)
PY

# The common flags are checked against the file; failures leave no file behind.
for bad in "--alpha 0.5:--alpha" "--num-classes 5:--num-classes"; do
    if err=$("$MBN" export --checkpoint "$ckpt" --format onnx ${bad%%:*} --out "$T/bad.onnx" 2>&1); then
        echo "FAIL: export accepted ${bad%%:*}"; exit 1
    fi
    [[ "$err" == *"$ckpt"*"${bad#*:}"* ]] || { echo "FAIL: unclear error: $err"; exit 1; }
    [ ! -e "$T/bad.onnx" ] || { echo "FAIL: a refused export left a file"; exit 1; }
done
status=0
"$MBN" export --checkpoint "$ckpt" --format onnnx --out "$T/bad.onnx" 2> /dev/null || status=$?
[ "$status" = 2 ] && [ ! -e "$T/bad.onnx" ] || { echo "FAIL: --format onnnx exit $status"; exit 1; }
for bad in "--precision fp16:bad.safetensors" "--precision auto:bad.onnx" "--precision fp8:bad.onnx"; do
    status=0
    "$MBN" export --checkpoint "$ckpt" ${bad%%:*} --out "$T/${bad#*:}" 2> /dev/null || status=$?
    [ "$status" = 2 ] && [ ! -e "$T/${bad#*:}" ] || { echo "FAIL: ${bad%%:*}: exit $status"; exit 1; }
done
if "$MBN" export --checkpoint "$ckpt" --format onnx --out "$T/no/such/dir/m.onnx" 2> /dev/null; then
    echo "FAIL: wrote into a missing folder"; exit 1
fi
echo "ok   --alpha/--num-classes checked against the file, bad --format is a usage error, no partial files"
