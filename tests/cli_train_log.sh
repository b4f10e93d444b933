#!/usr/bin/env bash
# train_log.csv follows the run: every step's row reaches the file as the step ends (not in
# stdio-buffer chunks of ~100 rows, or at the next evaluation), so `tail -f` shows each step and
# a run killed with SIGKILL leaves every row it logged, each whole.
set -uo pipefail
MBN=${MBN:-build/mbn}
T=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$T"' EXIT
export MBN_CACHE_DIR="$T/cache"
python3 tests/make_tiny_idx.py "$T/data" 4096 64
log="$T/run/train_log.csv"
"$MBN" train --data "$T/data" --alpha 0.25 --resolution 64 --batch-size 4 --epochs 1 \
    --workers 1 --quiet --ckpt-dir "$T/run" > /dev/null 2> "$T/err" &
pid=$!
# The first time the file shows step rows, it shows only a few: rows arrive one by one.
first=0
for _ in $(seq 1 3000); do
    kill -0 "$pid" 2>/dev/null || break
    rows=$(grep -c '^train,' "$log" 2>/dev/null)
    if [ "${rows:-0}" -gt 0 ]; then
        first=$rows
        break
    fi
    sleep 0.01
done
[ "$first" -gt 0 ] || { echo "FAIL: no step row while the run was going"; cat "$T/err"; exit 1; }
[ "$first" -le 40 ] ||
    { echo "FAIL: the first rows arrived $first at a time (buffered)"; exit 1; }
sleep 0.5
{
    kill -9 "$pid"
    wait "$pid"
} 2> /dev/null
pid=
python3 - "$log" "$first" <<'PY'
import sys
text = open(sys.argv[1]).read()
assert text.endswith("\n"), "a partial last row"
rows = text.splitlines()
assert rows[0] == "kind,epoch,step,loss,lr,images_per_s,top1,top5", rows[0]
steps = [int(r.split(",")[2]) for r in rows[1:]]
assert all(r.startswith("train,1,") and len(r.split(",")) == 8 for r in rows[1:]), rows[1:4]
assert steps == list(range(1, len(steps) + 1)), steps[:10]
assert len(steps) > int(sys.argv[2]), (len(steps), sys.argv[2])
print(f"ok   first rows seen {sys.argv[2]} at a time; after SIGKILL {len(steps)} whole rows, "
      "steps 1 to", len(steps))
PY
