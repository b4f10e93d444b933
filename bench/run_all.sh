#!/bin/bash
# mbn against PyTorch on this machine, back to back, same thread count: prints a markdown
# table for docs/PERFORMANCE.md. Usage: bench/run_all.sh [threads] (default 2; mbn's OpenCL
# device decides its own threads: PoCL uses every core, so run this on a machine whose core
# count is the thread count).
#   MBN=./build/mbn  PYTHON=/usr/bin/python3  ITER=3 (timed mbn iterations)
#   REPEAT=2: every measurement (mbn and PyTorch alike) is repeated, mbn and PyTorch
#   alternating, and the best run is reported: on a shared machine the best run is the one
#   least disturbed by other processes.
set -euo pipefail
cd "$(dirname "$0")/.."
MBN=${MBN:-./build/mbn}
PY=${PYTHON:-/usr/bin/python3}
T=${1:-2}
IT=${ITER:-3}
R=${REPEAT:-2}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" >&2
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
# name | mbn args | pytorch args
configs=(
  "1.0-224 infer b1|--batch-size 1 --iterations $((IT * 8))|"
  "1.0-224 infer b32|--batch-size 32 --iterations $IT|"
  "1.0-224 train b32|--mode train --batch-size 32 --iterations $IT|"
  "0.25-32 train b64 (10 classes)|--alpha 0.25 --resolution 32 --num-classes 10 --mode train --batch-size 64 --iterations $((IT * 10))|"
)
for r in $(seq 1 "$R"); do
  i=0
  for c in "${configs[@]}"; do
    IFS='|' read -r name args _ <<<"$c"
    # shellcheck disable=SC2086
    "$MBN" bench $args --json >"$out/mbn_${i}_$r.json"
    i=$((i + 1))
  done
  "$PY" bench/pytorch_bench.py --threads "$T" --batch 32 --infer-iters "$IT" --train-iters "$IT" \
    >"$out/pt_224_$r.jsonl"
  "$PY" bench/pytorch_bench.py --threads "$T" --alpha 0.25 --resolution 32 --num-classes 10 \
    --batch 64 --infer-iters "$((IT * 10))" --train-iters "$((IT * 10))" >"$out/pt_32_$r.jsonl"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

"$PY" - "$out" "$R" <<'PY'
import json, sys, os
d, R = sys.argv[1], int(sys.argv[2])
def pt_best(prefix):
    best, every = {}, {}
    for r in range(1, R + 1):
        for line in open(os.path.join(d, f"{prefix}_{r}.jsonl")):
            row = json.loads(line)
            if row.get("best"):
                continue
            for tab, key in ((best, (row["mode"], row["batch"])),
                             (every, (row["mode"], row["batch"], row["format"]))):
                if key not in tab or row["images_per_s"] > tab[key]["images_per_s"]:
                    tab[key] = row
    return best, every
def mbn_best(i):
    rows = [json.load(open(os.path.join(d, f"mbn_{i}_{r}.json")))["results"][0]
            for r in range(1, R + 1)]
    return max(rows, key=lambda m: m["images_per_s"])
pt224, all224 = pt_best("pt_224")
pt32, all32 = pt_best("pt_32")
names = ["1.0-224 inference, batch 1", "1.0-224 inference, batch 32",
         "1.0-224 training step, batch 32", "0.25-32 training step, batch 64 (Fashion-MNIST recipe)"]
keys = [(pt224, ("infer", 1)), (pt224, ("infer", 32)), (pt224, ("train", 32)), (pt32, ("train", 64))]
print(f"best of {R} runs each")
print()
print("| workload | mbn images/s | mbn ms/batch | PyTorch images/s | PyTorch ms/batch | PyTorch format | mbn / PyTorch |")
print("|---|---|---|---|---|---|---|")
for i, (name, (tab, k)) in enumerate(zip(names, keys)):
    m, p = mbn_best(i), tab[k]
    mb = m["batch"] * 1000.0 / m["images_per_s"]
    print(f"| {name} | {m['images_per_s']:.1f} | {mb:.1f} | {p['images_per_s']:.1f} | "
          f"{p['seconds_per_batch'] * 1000:.1f} | {p['format']} | {m['images_per_s'] / p['images_per_s']:.2f}x |")
print()
m, p = mbn_best(3), pt32[("train", 64)]
print(f"0.25-32 epoch estimate (60000 images): mbn {60000 / m['images_per_s']:.0f} s, "
      f"PyTorch {60000 / p['images_per_s']:.0f} s")
print()
print("PyTorch, both memory formats:")
for r in list(all224.values()) + list(all32.values()):
    print(f"- {r['alpha']}-{r['resolution']} {r['mode']} batch {r['batch']} {r['format']}: "
          f"{r['images_per_s']:.1f} images/s")
PY
