#!/usr/bin/env bash
# mbn bench reports the device memory its network allocated (device_memory_bytes); an inference
# network, holding no training buffers, needs under a third of a training one at the same model
# and batch (test_api_registry checks the exact list of inference buffers).
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
