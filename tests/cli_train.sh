#!/usr/bin/env bash
# mbn train end to end on a small Fashion-MNIST subset: it trains, evaluates, checkpoints and
# writes its log and labels; two runs with the same seed give bit-identical weights; an
# interrupted run resumed with --resume auto ends bit-identical to an uninterrupted one; two
# ranks (--device 0,0) train data-parallel; eval and export read the checkpoint back.
set -euo pipefail
MBN=${MBN:-build/mbn}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
python3 tests/make_tiny_idx.py "$T/fashion-mnist" 512 256
common=(--data "$T/fashion-mnist" --alpha 0.25 --resolution 32 --batch-size 32 --epochs 2 --quiet)

"$MBN" train "${common[@]}" --ckpt-dir "$T/runs/a" --json > "$T/a.json"
mv "$T/runs/a" "$T/a"
python3 - "$T/a.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["epochs"] == 2 and d["steps"] == 32, d
assert d["checkpoint"].endswith("mobilenetv1-2_16.ckpt"), d
assert 0.0 < d["loss"] < 3.0, d
assert d["val_top1"] is not None and 0.0 <= d["val_top1"] <= 1.0, d
print("ok   train --json:", d)
PY
test -f "$T/a/mobilenetv1-1_16.ckpt" && test -f "$T/a/labels.txt" && test -f "$T/a/train_log.csv"
[ "$(sed -n 1p "$T/a/labels.txt")" = "T-shirt/top" ] || { echo "FAIL labels"; exit 1; }
[ "$(grep -c '^train,' "$T/a/train_log.csv")" = 32 ] || { echo "FAIL log rows"; exit 1; }
[ "$(grep -c '^eval,' "$T/a/train_log.csv")" = 2 ] || { echo "FAIL eval rows"; exit 1; }
# Each evaluation row carries the global step it followed (16 steps per epoch here).
[ "$(grep -o '^eval,[0-9]*,[0-9]*' "$T/a/train_log.csv" | tr '\n' ' ')" = "eval,1,16 eval,2,32 " ] ||
    { echo "FAIL eval rows: step"; grep '^eval' "$T/a/train_log.csv"; exit 1; }
echo "ok   checkpoints, labels and log written"
# mbn plot reads the log the trainer writes: 32 steps, 2 evaluations.
"$MBN" plot --ckpt-dir "$T/a" --out "$T/a.svg" 2>/dev/null
python3 - "$T/a.svg" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
got = {p.get("data-series"): len(p.get("points").split())
       for p in root.iter("{http://www.w3.org/2000/svg}polyline")}
assert got == {"loss": 32, "lr": 32, "val_loss": 2, "top1": 2, "top5": 2}, got
print("ok   mbn plot of the training log:", got)
PY

# Same seed, same device: same bits.
"$MBN" train "${common[@]}" --ckpt-dir "$T/b" --no-eval
"$MBN" export --checkpoint "$T/a/mobilenetv1-2_16.ckpt" --out "$T/a.safetensors"
"$MBN" export --checkpoint "$T/b/mobilenetv1-2_16.ckpt" --out "$T/b.safetensors"
cmp "$T/a.safetensors" "$T/b.safetensors" && echo "ok   two runs with one seed: identical weights"

# Interrupted after 21 steps (mid-epoch 2), resumed: identical to the uninterrupted run.
"$MBN" train "${common[@]}" --ckpt-dir "$T/c" --no-eval --max-steps 21
test -f "$T/c/mobilenetv1-2_5.ckpt"
"$MBN" train "${common[@]}" --ckpt-dir "$T/c" --no-eval --resume auto
"$MBN" export --checkpoint "$T/c/mobilenetv1-2_16.ckpt" --out "$T/c.safetensors"
cmp "$T/a.safetensors" "$T/c.safetensors" && echo "ok   resumed mid-epoch: identical weights"

# The log across a kill: a row left half-written is cut off before the resumed run appends; a log
# begun before the exchange columns (exchange_ms, exchange_exposed_ms) keeps its eight columns.
"$MBN" train "${common[@]}" --ckpt-dir "$T/k" --no-eval --max-steps 5
printf 'train,1,6,2.3' >>"$T/k/train_log.csv"
"$MBN" train "${common[@]}" --ckpt-dir "$T/k" --no-eval --resume auto --max-steps 8 2>/dev/null
python3 - "$T/k/train_log.csv" "$T/old/train_log.csv" <<'PY'
import os, sys
lines = open(sys.argv[1]).read().splitlines()
assert lines[0].endswith(",top1,top5,exchange_ms,exchange_exposed_ms"), lines[0]
steps = [int(l.split(",")[2]) for l in lines[1:]]
assert steps == list(range(1, 9)), lines
assert all(len(l.split(",")) == 10 for l in lines), lines
os.makedirs(os.path.dirname(sys.argv[2]))
with open(sys.argv[2], "w") as f:  # the same log as an older mbn wrote it
    f.write("".join(",".join(l.split(",")[:8]) + "\n" for l in lines[:6]))
PY
cp "$T/k"/mobilenetv1-1_5.ckpt "$T/k/labels.txt" "$T/old/"
"$MBN" train "${common[@]}" --ckpt-dir "$T/old" --no-eval --resume auto --max-steps 8 2>/dev/null
python3 - "$T/old/train_log.csv" <<'PY'
import sys
lines = open(sys.argv[1]).read().splitlines()
assert [l.split(",")[2] for l in lines[1:]] == [str(s) for s in range(1, 9)], lines
assert all(len(l.split(",")) == 8 for l in lines), lines
PY
"$MBN" plot --ckpt-dir "$T/k" "$T/old" --out "$T/k.svg" 2>/dev/null
echo "ok   training log: a half-written row is dropped on resume; an 8-column log stays 8 columns"

# Data-parallel: two ranks on the same device, batch 16 each.
"$MBN" train --data "$T/fashion-mnist" --alpha 0.25 --resolution 32 --batch-size 16 --epochs 1 --quiet \
    --device 0,0 --ckpt-dir "$T/d" --json > "$T/d.json"
python3 -c "import json,sys; d=json.load(open('$T/d.json')); assert d['steps']==16, d; print('ok   two ranks:', d)"

# eval and infer agree with the checkpoint's classes.
"$MBN" eval --data "$T/fashion-mnist" --checkpoint "$T/a/mobilenetv1-2_16.ckpt" --json > "$T/e.json"
python3 -c "
import json; d=json.load(open('$T/e.json')); a=json.load(open('$T/a.json'))
assert d['images']==256 and d['skipped']==0, d
assert abs(d['top1']-a['val_top1'])<1e-9, (d, a)
print('ok   eval matches the training run\'s last evaluation:', d)"

# A checkpoint refuses a contradicting command line, naming the file and the flag.
if err=$("$MBN" train --data "$T/fashion-mnist" --alpha 0.5 --resolution 32 --batch-size 32 \
        --epochs 3 --quiet --ckpt-dir "$T/a" --resume auto 2>&1); then
    echo "FAIL: resumed a 0.25 checkpoint with --alpha 0.5"; exit 1
fi
[[ "$err" == *"mobilenetv1-2_16.ckpt"*"--alpha"* ]] || { echo "FAIL: unclear refusal: $err"; exit 1; }
echo "ok   --alpha 0.5 against a 0.25 checkpoint: $err"

# Ctrl-C (SIGINT) finishes the current step, saves a checkpoint and exits 1; resume continues.
"$MBN" train "${common[@]}" --epochs 200 --no-eval --ckpt-dir "$T/int" 2> "$T/int.err" &
pid=$!
for _ in $(seq 1 100); do [ -f "$T/int/train_log.csv" ] && [ "$(wc -l < "$T/int/train_log.csv")" -gt 3 ] && break; sleep 0.1; done
kill -INT $pid
status=0; wait $pid || status=$?
[ "$status" = 1 ] || { echo "FAIL: interrupted run exited $status"; cat "$T/int.err"; exit 1; }
grep -q "interrupted (SIGINT) after step [0-9]*; saved" "$T/int.err" || { echo "FAIL: no interrupt message"; exit 1; }
n=$(ls "$T/int"/mobilenetv1-*.ckpt | wc -l)
[ "$n" -ge 1 ] || { echo "FAIL: no checkpoint after Ctrl-C"; exit 1; }
"$MBN" train "${common[@]}" --epochs 200 --no-eval --ckpt-dir "$T/int" --resume auto --max-steps 40 --quiet
echo "ok   Ctrl-C: checkpoint saved ($(ls "$T/int" | grep ckpt | tail -1)), resumed to step 40"
