#!/usr/bin/env bash
# Learns real data: Fashion-MNIST, alpha 0.25, 32x32, batch 64, cosine from 0.1 (one epoch of
# MindSpore's cosine is a constant 0.1), label smoothing 0.1, one epoch. PyTorch with this
# recipe reached 82.0% and 81.7% test top-1 with two seeds. One epoch at a constant lr 0.1 is
# noisy (single seeds of mbn gave 79.3% to 83.0% as kernels changed their rounding), so the test
# trains four seeds and asserts their mean test top-1 is at least 80%, and every seed at least
# 77% (a real regression moves all of them).
set -euo pipefail
MBN=${MBN:-build/mbn}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
for seed in 1 2 3 4; do
    "$MBN" train --data /usr/share/datasets/fashion-mnist --alpha 0.25 --resolution 32 \
        --batch-size 64 --epochs 1 --max-lr 0.1 --label-smoothing 0.1 --seed "$seed" \
        --ckpt-dir "$T/ck$seed" --json > "$T/r$seed.json"
done
python3 - "$T" <<'PY'
import json, sys
runs = [json.load(open(f"{sys.argv[1]}/r{s}.json")) for s in (1, 2, 3, 4)]
top1 = [r["val_top1"] for r in runs]
for s, r in zip((1, 2, 3, 4), runs):
    print(f"seed {s}: test top-1 {100 * r['val_top1']:.2f}%, {r['seconds']:.1f} s")
mean = sum(top1) / len(top1)
print(f"mean test top-1 {100 * mean:.2f}%")
assert mean >= 0.80, "mean test top-1 %.4f is below 0.80" % mean
assert min(top1) >= 0.77, "a seed fell below 77%%: %s" % top1
print("ok   mean >= 80%, every seed >= 77%")
PY
