# Sourced after tests/netns_hosts.sh (with netns_hosts 2 done) by tests/cli_mpi_hosts.sh and
# bench/fault_repeat.sh: a 2-host training run cut short by a fault, and the checks that follow.
# Needs $MBN (absolute) and $T. Data: 2048 images, 64 steps per epoch on 2 ranks, 128 on 1.
FAULT_DATA=$T/faultdata
python3 tests/make_tiny_idx.py "$FAULT_DATA" 2048 64
FAULT_TRAIN=(--data "$FAULT_DATA" --alpha 0.25 --resolution 32 --batch-size 16 --epochs 200 --no-eval
    --quiet)
FAULT_SPE2=64
FAULT_SPE1=128

# The faults, acting on host 1, and their repair.
fault_cut_data() { netns_link 1 data down; }
fault_cut_host() { netns_link 1 mgmt down && netns_link 1 data down; }
fault_kill_rank1() {
    local p
    for p in $(netns_pids "${NS[1]}"); do
        [ "$(cat "/proc/$p/comm" 2>/dev/null)" = mbn ] && kill -9 "$p"
    done
    return 0
}
fault_heal() { netns_link 1 mgmt up && netns_link 1 data up; }

fault_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); } # wall clock in ms (bash 5)

# fault_run DIR TIMEOUT ACTION DELAY: a 2-host run (checkpoints every 8 steps) into DIR; DELAY
# seconds after its first checkpoint, ACTION. Checks that the job ends within TIMEOUT + 30 s of
# the fault with a non-zero status and no process left on either host; sets FAULT_ENDED (seconds
# from the fault until then) and FAULT_STATUS. Returns 1 after printing FAIL otherwise.
fault_run() {
    local dir=$1 timeout=$2 action=$3 delay=$4 pid status=0 left=
    "${NSRUN[@]}" -np 2 "$MBN" train "${FAULT_TRAIN[@]}" --comm-timeout "$timeout" \
        --save-every-steps 8 --ckpt-dir "$dir" >"$dir.out" 2>"$dir.err" &
    pid=$!
    for _ in $(seq 1 3000); do [ -f "$dir/mobilenetv1-1_8.ckpt" ] && break; sleep 0.01; done
    if [ ! -f "$dir/mobilenetv1-1_8.ckpt" ]; then
        kill -9 $pid 2>/dev/null
        echo "FAIL: $dir: no checkpoint"
        cat "$dir.err"
        return 1
    fi
    sleep "$delay"
    local start limit=$(((timeout + 30) * 1000))
    start=$(fault_ms)
    $action
    while kill -0 $pid 2>/dev/null; do
        [ $(($(fault_ms) - start)) -lt $limit ] ||
            { kill -9 $pid; echo "FAIL: $dir: still running $((limit / 1000)) s after the fault"; return 1; }
        sleep 0.1
    done
    wait $pid || status=$?
    while left=$(netns_leftovers) && [ -n "$left" ]; do
        [ $(($(fault_ms) - start)) -lt $limit ] ||
            { echo "FAIL: $dir: left running $((limit / 1000)) s after the fault: $left"; return 1; }
        sleep 0.1
    done
    [ "$status" != 0 ] || { echo "FAIL: $dir: exit 0 after the fault"; return 1; }
    FAULT_ENDED=$(printf '%.1f' "$(($(fault_ms) - start))e-3")
    FAULT_STATUS=$status
}

# fault_resumed DIR SPE LAUNCHER...: the newest checkpoint in DIR loads (mbn eval), --resume auto
# with LAUNCHER (e.g. "${NSRUN[@]}" -np 2, or env for one process) finishes the epoch after its
# own, at SPE steps per epoch, and mbn plot reads the log. Sets FAULT_RESUMED; returns 1 after
# printing FAIL otherwise.
fault_resumed() {
    local dir=$1 spe=$2 latest epoch steps
    shift 2
    latest=$(ls -t "$dir"/mobilenetv1-*.ckpt | head -1)
    "$MBN" eval --data "$FAULT_DATA" --checkpoint "$latest" --json >/dev/null ||
        { echo "FAIL: $latest does not load"; return 1; }
    epoch=$(basename "$latest" | sed 's/mobilenetv1-\([0-9]*\)_.*/\1/')
    "$@" "$MBN" train "${FAULT_TRAIN[@]}" --epochs $((epoch + 1)) --ckpt-dir "$dir" \
        --resume auto --json >"$dir.resumed.json" 2>"$dir.resumed.err" ||
        { echo "FAIL: $dir: resume"; cat "$dir.resumed.err"; return 1; }
    steps=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['steps'])" "$dir.resumed.json")
    [ "$steps" = $(((epoch + 1) * spe)) ] ||
        { echo "FAIL: $dir: resumed to step $steps, not $(((epoch + 1) * spe))"; return 1; }
    "$MBN" plot --ckpt-dir "$dir" --out "$dir.svg" >/dev/null 2>&1 ||
        { echo "FAIL: $dir: mbn plot of the log"; return 1; }
    FAULT_RESUMED="$(basename "$latest") loads; resumed to step $steps"
}
