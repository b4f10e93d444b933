#!/usr/bin/env bash
# Data-parallel equivalences inside one process (no MPI needed):
#  - --accumulate 2 (one network, two micro-batches per step) gives the bits of two in-process
#    ranks (--device 0,0), and --accumulate 3 those of --device 0,0,0: same shards, same
#    summation order, BatchNorm running statistics of micro-batch 0 as of rank 0;
#  - a 2-rank run stopped mid-epoch and resumed as one process with --accumulate 2 ends
#    identical to the straight 2-rank run; resumed as one plain process it continues at the same
#    image of the epoch (step 5 of 16 with 32 images a step is step 10 of 32 with 16).
set -euo pipefail
MBN=${MBN:-build/mbn}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
python3 tests/make_tiny_idx.py "$T/data" 512 64
common=(--data "$T/data" --alpha 0.25 --resolution 32 --batch-size 16 --epochs 2 --no-eval --quiet)
weights() { "$MBN" export --checkpoint "$1" --format safetensors --out "$2" 2>/dev/null >/dev/null; }

"$MBN" train "${common[@]}" --device 0,0 --ckpt-dir "$T/ranks2" >/dev/null
"$MBN" train "${common[@]}" --accumulate 2 --ckpt-dir "$T/acc2" >/dev/null
weights "$T/ranks2/mobilenetv1-2_16.ckpt" "$T/ranks2.st"
weights "$T/acc2/mobilenetv1-2_16.ckpt" "$T/acc2.st"
cmp "$T/ranks2.st" "$T/acc2.st"
echo "ok   --accumulate 2 == --device 0,0 (exported weights identical)"

"$MBN" train "${common[@]}" --device 0,0,0 --ckpt-dir "$T/ranks3" >/dev/null
"$MBN" train "${common[@]}" --accumulate 3 --ckpt-dir "$T/acc3" >/dev/null
weights "$T/ranks3/mobilenetv1-2_10.ckpt" "$T/ranks3.st"
weights "$T/acc3/mobilenetv1-2_10.ckpt" "$T/acc3.st"
cmp "$T/ranks3.st" "$T/acc3.st"
# A different summation (or a different model) would not match: one plain process differs.
"$MBN" train "${common[@]}" --ckpt-dir "$T/one" >/dev/null
weights "$T/one/mobilenetv1-2_32.ckpt" "$T/one.st"
if cmp -s "$T/one.st" "$T/acc2.st"; then echo "FAIL: 1 rank equals 2 ranks"; exit 1; fi
echo "ok   --accumulate 3 == --device 0,0,0; a single rank differs"

# Two ranks stopped after 5 of 16 steps, resumed as one process with --accumulate 2.
"$MBN" train "${common[@]}" --device 0,0 --ckpt-dir "$T/r" --max-steps 5 >/dev/null
test -f "$T/r/mobilenetv1-1_5.ckpt"
cp -r "$T/r" "$T/r1"
"$MBN" train "${common[@]}" --accumulate 2 --ckpt-dir "$T/r" --resume auto >/dev/null 2>"$T/r.err"
weights "$T/r/mobilenetv1-2_16.ckpt" "$T/r.st"
cmp "$T/ranks2.st" "$T/r.st"
echo "ok   2 ranks resumed as 1 process with --accumulate 2: identical to the straight run"

# ... and as one plain process: 32 steps of 16 per epoch now, continuing at step 10.
"$MBN" train "${common[@]}" --ckpt-dir "$T/r1" --resume auto --json >"$T/r1.json" 2>"$T/r1.err"
grep -q "resuming from .*mobilenetv1-1_5.ckpt at epoch 1, step 10" "$T/r1.err" ||
    { echo "FAIL: resume position"; cat "$T/r1.err"; exit 1; }
python3 - "$T/r1.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["steps"] == 64 and d["epochs"] == 2, d  # steps restated in the new run's steps
assert d["checkpoint"].endswith("mobilenetv1-2_32.ckpt"), d
PY
# The first epoch's files keep the 2-rank run's step numbers, so the newest sorts last.
test -f "$T/r1/mobilenetv1-1_16.ckpt" && ! test -f "$T/r1/mobilenetv1-1_32.ckpt"
"$MBN" eval --data "$T/data" --checkpoint "$T/r1/mobilenetv1-2_32.ckpt" --json >/dev/null
echo "ok   2 ranks resumed as 1 plain process: continues at step 10 of 32; checkpoints load"

status=0
err=$("$MBN" train "${common[@]}" --accumulate 0 --ckpt-dir "$T/bad" 2>&1) || status=$?
[ "$status" = 2 ] && [[ "$err" == *"--accumulate 0"* ]] || { echo "FAIL: $status $err"; exit 1; }
echo "ok   --accumulate 0 is a usage error: $(echo "$err" | head -1)"
