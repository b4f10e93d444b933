#!/usr/bin/env bash
# mbn bench reports the device memory its network allocated (device_memory_bytes); an inference
# network, holding no training buffers, needs under a third of a training one at the same model
# and batch (test_api_registry checks the exact list of inference buffers). The fp16 path
# (--precision fp16) needs at most 55% of fp32's at 1.0-224 batch 1, and moves fewer bytes per
# image. Inputs and outputs: where the device shares the host's memory (zero_copy), one
# inference copies nothing; with MBN_ZERO_COPY=0, or on other devices, the image and the
# probabilities (224 x 224 x 3 + 1000 floats).
set -euo pipefail
cd "$(dirname "$0")/.."
MBN=${MBN:-build/mbn}
args=(--alpha 0.25 --resolution 64 --num-classes 10 --batch-size 4 --iterations 1 --json)
infer=$("$MBN" bench "${args[@]}" --mode infer)
train=$("$MBN" bench "${args[@]}" --mode train)
python3 - "$infer" "$train" <<'PY'
import json, sys
i = json.loads(sys.argv[1])["results"][0]["device_memory_bytes"]
t = json.loads(sys.argv[2])["results"][0]["device_memory_bytes"]
assert 0 < i < t / 3, (i, t)
print("ok   device memory 0.25-64 batch 4: inference %.2f MiB, training %.2f MiB" % (i / 2**20, t / 2**20))
PY
big=(--batch-size 1 --iterations 1 --json)
unified=$("$MBN" devices --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["devices"][0]["host_unified_memory"])')
fp32=$("$MBN" bench "${big[@]}")
fp16=$("$MBN" bench "${big[@]}" --precision fp16)
copied=$(MBN_ZERO_COPY=0 "$MBN" bench "${big[@]}" --precision fp16)
python3 - "$fp32" "$fp16" "$copied" "$unified" <<'PY'
import json, sys
a, h, c = (json.loads(s)["results"][0] for s in sys.argv[1:4])
# a device sharing the host's memory (PoCL does) maps inputs and outputs
assert a["zero_copy"] == h["zero_copy"] == (sys.argv[4] == "True"), (a["zero_copy"], sys.argv[4])
assert (a["precision"], h["precision"]) == ("fp32", "fp16"), (a["precision"], h["precision"])
ratio = h["device_memory_bytes"] / a["device_memory_bytes"]
assert ratio <= 0.55, ratio
assert h["bytes_moved_per_image"] < 0.6 * a["bytes_moved_per_image"], (h, a)
io = (224 * 224 * 3 + 1000) * 4
for r in (a, h):
    assert r["bytes_copied_per_image"] == (0 if r["zero_copy"] else io), r
assert not c["zero_copy"] and c["bytes_copied_per_image"] == io, c
print("ok   1.0-224 batch 1: fp16 %.1f MiB = %.0f%% of fp32's %.1f MiB; %.1f MB moved per image "
      "(fp32 %.1f); I/O %s, %d bytes copied per image (%d with MBN_ZERO_COPY=0)"
      % (h["device_memory_bytes"] / 2**20, 100 * ratio, a["device_memory_bytes"] / 2**20,
         h["bytes_moved_per_image"] / 1e6, a["bytes_moved_per_image"] / 1e6,
         "mapped" if h["zero_copy"] else "copied", h["bytes_copied_per_image"],
         c["bytes_copied_per_image"]))
PY
