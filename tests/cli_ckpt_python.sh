#!/usr/bin/env bash
# docs/CHECKPOINT_FORMAT.md is complete: an independent standard-library Python reader
# (tests/ckpt_inspect.py) decodes checkpoints written by the C code (the committed fuzz seeds) to
# the values they were written with, and refuses a damaged copy.
set -euo pipefail
cd "$(dirname "$0")/.."
py=$(command -v python3)
out=$("$py" tests/ckpt_inspect.py tests/fuzz/corpus_ckpt/full.ckpt --values)
"$py" - "$out" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
assert d["config"] == {"alpha": 0.25, "resolution": 32, "num_classes": 10,
                       "bn_eps": 9.999999747378752e-06}, d["config"]
t = {x["name"]: x for x in d["tensors"]}
assert [x["name"] for x in d["tensors"]] == ["blocks.0.0.conv_dw.weight", "classifier.weight",
                                             "classifier.bias", "optim.momentum.classifier.bias"]
assert t["blocks.0.0.conv_dw.weight"]["shape"] == [2, 1, 3, 3]
assert t["blocks.0.0.conv_dw.weight"]["values"] == [i * 0.125 - 1 for i in range(18)]
assert t["classifier.weight"]["values"] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
assert d["meta"] == {"epoch": 3, "step": 300, "lr": 0.05, "lr_schedule": "cosine"}, d["meta"]
PY
"$py" tests/ckpt_inspect.py tests/fuzz/corpus_ckpt/empty.ckpt | grep -q '"note": "empty"'
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
"$py" -c 'import sys; b=bytearray(open(sys.argv[1],"rb").read()); b[60]^=1; open(sys.argv[2],"wb").write(b)' \
    tests/fuzz/corpus_ckpt/full.ckpt "$tmp"
if "$py" tests/ckpt_inspect.py "$tmp" 2>/dev/null; then
    echo "damaged copy accepted" >&2
    exit 1
fi
echo "cli_ckpt_python: ok"
