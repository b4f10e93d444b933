#!/usr/bin/env bash
# Preemption: SIGTERM (what Slurm and Kubernetes send first) mid-epoch finishes the step, writes
# a checkpoint and exits 1 with "interrupted" in --json; --resume auto then ends bit-identical
# to an uninterrupted run. --save-every-steps checkpoints inside the epoch, and
# --keep-checkpoint-max applies to those files too.
set -euo pipefail
MBN=${MBN:-build/mbn}
T=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; rm -rf "$T"' EXIT
python3 tests/make_tiny_idx.py "$T/data" 512 64
common=(--data "$T/data" --alpha 0.25 --resolution 32 --batch-size 16 --epochs 6 --no-eval --quiet)
weights() { "$MBN" export --checkpoint "$1" --format safetensors --out "$2" 2>/dev/null >/dev/null; }

"$MBN" train "${common[@]}" --ckpt-dir "$T/straight" >/dev/null
weights "$T/straight/mobilenetv1-6_32.ckpt" "$T/straight.st"

# SIGTERM once epoch 2 is under way (the log has a row per step).
"$MBN" train "${common[@]}" --ckpt-dir "$T/term" --json >"$T/term.json" 2>"$T/term.err" &
pid=$!
for _ in $(seq 1 600); do
    [ -f "$T/term/train_log.csv" ] && [ "$(grep -c '^train,2,' "$T/term/train_log.csv")" -ge 3 ] && break
    sleep 0.01
done
kill -TERM $pid
status=0
wait $pid || status=$?
pid=
[ "$status" = 1 ] || { echo "FAIL: SIGTERM: exit $status"; cat "$T/term.err"; exit 1; }
grep -q "interrupted (SIGTERM) after step" "$T/term.err" || { echo "FAIL: message"; cat "$T/term.err"; exit 1; }
python3 - "$T/term.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))  # exactly one JSON document
assert d["interrupted"] is True and 32 < d["steps"] < 192, d
PY
saved=$(ls "$T/term" | grep -c '^mobilenetv1-.*\.ckpt$')
echo "ok   SIGTERM mid-epoch: exit 1, $(grep -o 'interrupted.*' "$T/term.err")"
"$MBN" train "${common[@]}" --ckpt-dir "$T/term" --resume auto >/dev/null 2>"$T/resume.err"
weights "$T/term/mobilenetv1-6_32.ckpt" "$T/term.st"
cmp "$T/straight.st" "$T/term.st"
echo "ok   resumed after SIGTERM ($saved checkpoints then): identical to the straight run"

# --save-every-steps 5 with --keep-checkpoint-max 3: files inside the epochs, 3 kept.
"$MBN" train "${common[@]}" --epochs 1 --save-every-steps 5 --keep-checkpoint-max 100 \
    --ckpt-dir "$T/every" >/dev/null
names=$(cd "$T/every" && ls mobilenetv1-*.ckpt | sort -t_ -k2 -n | tr '\n' ' ')
[ "$names" = "mobilenetv1-1_5.ckpt mobilenetv1-1_10.ckpt mobilenetv1-1_15.ckpt mobilenetv1-1_20.ckpt mobilenetv1-1_25.ckpt mobilenetv1-1_30.ckpt mobilenetv1-1_32.ckpt " ] ||
    { echo "FAIL: --save-every-steps 5 wrote: $names"; exit 1; }
"$MBN" train "${common[@]}" --epochs 1 --save-every-steps 5 --keep-checkpoint-max 3 \
    --ckpt-dir "$T/keep" >/dev/null
names=$(cd "$T/keep" && ls mobilenetv1-*.ckpt | sort -t_ -k2 -n | tr '\n' ' ')
[ "$names" = "mobilenetv1-1_25.ckpt mobilenetv1-1_30.ckpt mobilenetv1-1_32.ckpt " ] ||
    { echo "FAIL: keep 3 left: $names"; exit 1; }
echo "ok   --save-every-steps 5: checkpoints at 5, 10, ... 30 and the epoch's end; keep-max 3 keeps 3"
