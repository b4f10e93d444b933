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
# Links are cut with `ip link set down` on the switch's port (a pulled cable): tc's netem (loss
# 100%) is not in every kernel (not in this project's VMs). bench/fault_repeat.sh repeats the
# faults at random points.
set -euo pipefail
MBN=${MBN:-build/mbn}
MBN=$(cd "$(dirname "$MBN")" && pwd)/$(basename "$MBN") # the agent starts daemons elsewhere
source tests/mpi_env.sh
source tests/netns_hosts.sh # makes $T
export MBN_CACHE_DIR=${MBN_CACHE_DIR:-$T/cache}
netns_hosts 2
python3 tests/make_tiny_idx.py "$T/data" 512 64
weights() { "$MBN" export --checkpoint "$1" --format safetensors --out "$2" 2>/dev/null >/dev/null; }

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
source tests/netns_faults.sh

fault_run "$T/cut" 3 fault_cut_data 0.$((RANDOM % 10)) || exit 1
fault_heal
# Each rank that timed out says so in one line (both may: neither hears the other).
timeout_line="mbn: error: rank ([01]) of 2 \(host nshost\1\) waited [0-9.]+ s in a gradient exchange without progress \(--comm-timeout 3\); rank [01] \(host nshost[01]\) was last heard from [0-9.]+ s ago; ending the job"
errors=$(grep -c 'mbn: error:' "$T/cut.err" || true)
[ "$errors" -ge 1 ] && [ "$(grep -cE "^$timeout_line$" "$T/cut.err")" = "$errors" ] ||
    { echo "FAIL: timeout message"; cat "$T/cut.err"; exit 1; }
fault_resumed "$T/cut" $FAULT_SPE2 "${NSRUN[@]}" -np 2 || exit 1
echo "ok   host 1's data link cut: exit $FAULT_STATUS after $FAULT_ENDED s (--comm-timeout 3), nothing left; $FAULT_RESUMED on 2 hosts"
grep 'mbn: error:' "$T/cut.err" | sed 's/^/     /'

fault_run "$T/kill" 3 fault_kill_rank1 0.$((RANDOM % 10)) || exit 1
fault_resumed "$T/kill" $FAULT_SPE1 env || exit 1
echo "ok   rank 1 killed on host 1: exit $FAULT_STATUS after $FAULT_ENDED s, nothing left; $FAULT_RESUMED by 1 process"

# Host 1 gone from both networks: Open MPI's daemons notice first (keepalive ~5 s, set in
# tests/netns_hosts.sh; --comm-timeout longer, as the defaults are: 480 s against 600 s).
fault_run "$T/gone" 10 fault_cut_host 0.$((RANDOM % 10)) || exit 1
fault_heal
fault_resumed "$T/gone" $FAULT_SPE1 env || exit 1
echo "ok   host 1 cut off entirely: exit $FAULT_STATUS after $FAULT_ENDED s (--comm-timeout 10), nothing left; $FAULT_RESUMED by 1 process"
