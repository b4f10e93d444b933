#!/usr/bin/env bash
# Ranks on separate hosts over TCP: two network namespaces made by tests/netns_hosts.sh, each a
# host with its own hostname and links (a management network for mpirun's control traffic, a
# data network for the gradients); mpirun runs on host 0 and starts host 1's daemon through
# tests/netns_agent.sh (an ssh stand-in). Needs root (ip netns); exits 77 (SKIP) otherwise.
#  - same bits: 2 hosts x 1 rank == 1 host x 2 ranks == --device 0,0 == --accumulate 2, with the
#    exchange overlapped in small buckets and in one piece after backward; --json and the CSV
#    log report the exchange time and its part not hidden behind backward, and `mbn plot` reads
#    the log;
#  - --comm-timeout times only the exchanges: host 1 compiling its kernels from cold and rank 0
#    evaluating both keep the other rank waiting longer than the timeout, and the run succeeds;
#  - faults, each ending the job within --comm-timeout + 30 s with no process left on either
#    host, the checkpoint folder loadable and --resume auto finishing the run: host 1's data
#    link cut mid-epoch (the timeout ends the job with one line naming rank, host and wait;
#    resumed on 2 hosts), rank 1 killed (resumed by 1 process), and host 1 cut off entirely
#    (Open MPI's daemon keepalive ends it; resumed by 1 process).
# bench/fault_repeat.sh repeats the faults at random points.
set -euo pipefail
MBN=${MBN:-build/mbn}
MBN=$(cd "$(dirname "$MBN")" && pwd)/$(basename "$MBN") # the agent starts daemons elsewhere
source tests/mpi_env.sh
T=$(mktemp -d)
source tests/netns_hosts.sh
pid=
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; netns_cleanup; rm -rf "$T"' EXIT
export MBN_CACHE_DIR=${MBN_CACHE_DIR:-$T/cache}
netns_hosts 2
python3 tests/make_tiny_idx.py "$T/data" 512 64
weights() { "$MBN" export --checkpoint "$1" --out "$2" 2>/dev/null >/dev/null; }
json_field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$@"; }

# --- Same bits ----------------------------------------------------------------------------------
common=(--data "$T/data" --alpha 0.25 --resolution 32 --batch-size 16 --epochs 2 --no-eval --quiet)
"$MBN" train "${common[@]}" --device 0,0 --ckpt-dir "$T/inproc" >/dev/null
"$MBN" train "${common[@]}" --accumulate 2 --ckpt-dir "$T/accum" >/dev/null
"${MPIRUN[@]}" -np 2 "$MBN" train "${common[@]}" --ckpt-dir "$T/onehost" >/dev/null
# 0.05 MB buckets: 14 exchanges per step, the first started while backward has most layers to go.
"${NSRUN[@]}" -np 2 "$MBN" train "${common[@]}" --bucket-mb 0.05 --ckpt-dir "$T/hosts" --json \
    >"$T/hosts.json"
"${NSRUN[@]}" -np 2 "$MBN" train "${common[@]}" --bucket-mb 0 --ckpt-dir "$T/hosts0" --json \
    >"$T/hosts0.json"
for run in inproc accum onehost hosts hosts0; do weights "$T/$run/mobilenetv1-2_16.ckpt" "$T/$run.st"; done
for run in accum onehost hosts hosts0; do cmp "$T/inproc.st" "$T/$run.st"; done
python3 - "$T/hosts.json" "$T/hosts0.json" "$T/hosts/train_log.csv" <<'PY'
import csv, json, sys
for path in sys.argv[1:3]:
    d = json.load(open(path))
    assert d["steps"] == 32 and not d["interrupted"], d
    ex, exposed = d["exchange_ms_per_step"], d["exchange_exposed_ms_per_step"]
    assert 0 < exposed <= ex, d
rows = [r for r in csv.DictReader(open(sys.argv[3])) if r["kind"] == "train"]
assert len(rows) == 32, len(rows)
for r in rows:
    assert 0 < float(r["exchange_exposed_ms"]) <= float(r["exchange_ms"]), r
PY
"$MBN" plot --ckpt-dir "$T/hosts" --out "$T/hosts.svg" >/dev/null
echo "ok   2 hosts x 1 rank (buckets 0.05 MB and one after backward) == 1 host x 2 ranks == --device 0,0 == --accumulate 2; exchange ms in --json and the log"

# --- Slow is not dead ---------------------------------------------------------------------------
# Host 1 compiles every kernel from an empty cache while rank 0, its cache warm, waits in the
# first exchange; after epoch 1 rank 0 evaluates 10,000 images while rank 1 waits. Both waits are
# longer than --comm-timeout 1: the timeout must not fire.
python3 tests/make_tiny_idx.py "$T/evaldata" 256 10000
slow=(--data "$T/evaldata" --alpha 0.25 --resolution 64 --batch-size 16 --epochs 2 --comm-timeout 1)
"$MBN" train "${slow[@]}" --max-steps 1 --no-eval --quiet --ckpt-dir "$T/warmup" >/dev/null
status=0
"${NSRUN[@]}" -np 1 -H "${ADDR[0]}" "$MBN" train "${slow[@]}" --ckpt-dir "$T/slow" : \
    -np 1 -H "${ADDR[1]}" -x MBN_CACHE_DIR="$T/cold" -x POCL_CACHE_DIR="$T/cold-pocl" \
    "$MBN" train "${slow[@]}" --ckpt-dir "$T/slow" >"$T/slow.out" 2>"$T/slow.err" || status=$?
[ "$status" = 0 ] || { echo "FAIL: slow run exit $status"; cat "$T/slow.err"; exit 1; }
python3 - "$T/slow/train_log.csv" "$T/slow.err" <<'PY'
import csv, re, sys
first = next(r for r in csv.DictReader(open(sys.argv[1])) if r["kind"] == "train")
compile_wait = float(first["exchange_ms"]) / 1e3
evals = [float(m) for m in re.findall(r"val top-1 .*, ([\d.]+) s\)", open(sys.argv[2]).read())]
assert compile_wait > 1, f"rank 0 waited only {compile_wait:.2f} s for host 1's compile"
assert evals and evals[0] > 1, f"evaluation took {evals} s: not longer than the timeout"
print(f"     waited {compile_wait:.1f} s for host 1's first compile, {evals[0]:.1f} s for evaluation")
PY
echo "ok   --comm-timeout 1: a cold compile on host 1 and evaluation on rank 0 do not trip it"

# --- Faults -------------------------------------------------------------------------------------
python3 tests/make_tiny_idx.py "$T/big" 4096 64
long=(--data "$T/big" --alpha 0.25 --resolution 32 --batch-size 16 --epochs 200 --no-eval --quiet)
SPE2=128 SPE1=256 # steps per epoch of 4096 images on 2 ranks and on 1

# fault_run NAME TIMEOUT ACTION: a 2-host run cut short by ACTION (a function) once its first
# checkpoint exists; checks it ends within TIMEOUT + 30 s of the fault with no process left.
fault_run() {
    local name=$1 timeout=$2 action=$3
    "${NSRUN[@]}" -np 2 "$MBN" train "${long[@]}" --comm-timeout "$timeout" --save-every-steps 8 \
        --ckpt-dir "$T/$name" >"$T/$name.out" 2>"$T/$name.err" &
    pid=$!
    for _ in $(seq 1 3000); do [ -f "$T/$name/mobilenetv1-1_8.ckpt" ] && break; sleep 0.01; done
    [ -f "$T/$name/mobilenetv1-1_8.ckpt" ] || { echo "FAIL: $name: no checkpoint"; cat "$T/$name.err"; exit 1; }
    sleep 0.$((RANDOM % 10))
    local start=$SECONDS limit=$((timeout + 30)) status=0 left
    $action
    while kill -0 $pid 2>/dev/null && [ $((SECONDS - start)) -le $limit ]; do sleep 0.1; done
    kill -0 $pid 2>/dev/null && { echo "FAIL: $name: still running $limit s after the fault"; exit 1; }
    wait $pid || status=$?
    pid=
    [ "$status" != 0 ] || { echo "FAIL: $name: exit 0"; exit 1; }
    while left=$(netns_leftovers) && [ -n "$left" ] && [ $((SECONDS - start)) -le $limit ]; do sleep 0.1; done
    [ -z "$left" ] || { echo "FAIL: $name: left running: $left"; exit 1; }
    ENDED=$((SECONDS - start)) STATUS=$status
}

# The folder of a faulted run loads, and --resume auto finishes the epoch after its newest
# checkpoint's: resumed NAME SPE LAUNCHER...
resumed() {
    local name=$1 spe=$2 latest epoch
    shift 2
    latest=$(ls -t "$T/$name"/mobilenetv1-*.ckpt | head -1)
    "$MBN" eval --data "$T/big" --checkpoint "$latest" --json >/dev/null
    epoch=$(basename "$latest" | sed 's/mobilenetv1-\([0-9]*\)_.*/\1/')
    "$@" "$MBN" train "${long[@]}" --epochs $((epoch + 1)) --ckpt-dir "$T/$name" --resume auto \
        --json >"$T/$name.resumed.json" 2>"$T/$name.resumed.err"
    [ "$(json_field "$T/$name.resumed.json" steps)" = $(((epoch + 1) * spe)) ] ||
        { echo "FAIL: $name resumed"; cat "$T/$name.resumed.json" "$T/$name.resumed.err"; exit 1; }
    "$MBN" plot --ckpt-dir "$T/$name" --out "$T/$name.svg" >/dev/null
    RESUMED="$(basename "$latest") loads; resumed to step $(((epoch + 1) * spe))"
}

cut_data() { netns_link 1 data down; }
fault_run cut 3 cut_data
netns_link 1 data up
# Each rank that timed out says so in one line (both may: neither hears the other).
timeout_line="mbn: error: rank ([01]) of 2 \(host nshost\1\) waited [0-9.]+ s in a gradient exchange without progress \(--comm-timeout 3\); rank [01] \(host nshost[01]\) was last heard from [0-9.]+ s ago; ending the job"
errors=$(grep -c 'mbn: error:' "$T/cut.err" || true)
[ "$errors" -ge 1 ] && [ "$(grep -cE "^$timeout_line$" "$T/cut.err")" = "$errors" ] ||
    { echo "FAIL: timeout message"; cat "$T/cut.err"; exit 1; }
resumed cut $SPE2 "${NSRUN[@]}" -np 2
echo "ok   host 1's data link cut: exit $STATUS after $ENDED s (--comm-timeout 3), nothing left; $RESUMED on 2 hosts"
grep 'mbn: error:' "$T/cut.err" | sed 's/^/     /'

kill_rank1() { kill -9 "$(ip netns pids "${NS[1]}" | while read -r p; do [ "$(cat /proc/"$p"/comm)" = mbn ] && echo "$p"; done)"; }
fault_run kill 3 kill_rank1
resumed kill $SPE1 env
echo "ok   rank 1 killed on host 1: exit $STATUS after $ENDED s, nothing left; $RESUMED by 1 process"

# Host 1 gone from both networks: Open MPI's daemons notice first (keepalive ~5 s, set in
# tests/netns_hosts.sh; --comm-timeout longer, as the defaults are: 480 s against 600 s).
cut_host() { netns_link 1 mgmt down; netns_link 1 data down; }
fault_run gone 10 cut_host
netns_link 1 mgmt up
netns_link 1 data up
resumed gone $SPE1 env
echo "ok   host 1 cut off entirely: exit $STATUS after $ENDED s (--comm-timeout 10), nothing left; $RESUMED by 1 process"
