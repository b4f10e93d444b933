#!/usr/bin/env bash
# mpirun -np 2 mbn train (SPEC §8), on the one PoCL device (both ranks share it):
#  - identical exported weights to the 2-device in-process run (--device 0,0) and from rerun to
#    rerun, and at 3 ranks to --device 0,0,0; stdout holds exactly one JSON document (rank 0's);
#  - a 2-rank run resumed by one process (--accumulate 2: bit-identical to the straight run;
#    plain: continues at the same image), and a 1-process run resumed by 2 ranks.
# Signals: cli_mpi_signals.sh.
set -euo pipefail
MBN=${MBN:-build/mbn}
source tests/mpi_env.sh
T=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; rm -rf "$T"' EXIT
python3 tests/make_tiny_idx.py "$T/data" 512 64
common=(--data "$T/data" --alpha 0.25 --resolution 32 --batch-size 16 --epochs 2 --no-eval --quiet)
weights() { "$MBN" export --checkpoint "$1" --format safetensors --out "$2" 2>/dev/null >/dev/null; }

"$MBN" train "${common[@]}" --device 0,0 --ckpt-dir "$T/inproc" >/dev/null
weights "$T/inproc/mobilenetv1-2_16.ckpt" "$T/inproc.st"
"${MPIRUN[@]}" -np 2 "$MBN" train "${common[@]}" --ckpt-dir "$T/mpi" --json >"$T/mpi.json"
python3 - "$T/mpi.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))  # fails on a second document or stray output
assert d["steps"] == 32 and d["epochs"] == 2 and not d["interrupted"], d
assert d["checkpoint"].endswith("mobilenetv1-2_16.ckpt"), d
PY
weights "$T/mpi/mobilenetv1-2_16.ckpt" "$T/mpi.st"
cmp "$T/inproc.st" "$T/mpi.st"
"${MPIRUN[@]}" -np 2 "$MBN" train "${common[@]}" --ckpt-dir "$T/mpi_again" >/dev/null
weights "$T/mpi_again/mobilenetv1-2_16.ckpt" "$T/mpi_again.st"
cmp "$T/mpi.st" "$T/mpi_again.st"
echo "ok   2 MPI ranks == --device 0,0, rerun identical; one JSON document on stdout"

# At 3 ranks the order of the sums matters (float addition is not associative): the MPI ring
# and the in-process fold follow the same one.
one=(--data "$T/data" --alpha 0.25 --resolution 32 --batch-size 16 --epochs 1 --no-eval --quiet)
"$MBN" train "${one[@]}" --device 0,0,0 --ckpt-dir "$T/inproc3" >/dev/null
"${MPIRUN[@]}" -np 3 "$MBN" train "${one[@]}" --ckpt-dir "$T/mpi3" >/dev/null
weights "$T/inproc3/mobilenetv1-1_10.ckpt" "$T/inproc3.st"
weights "$T/mpi3/mobilenetv1-1_10.ckpt" "$T/mpi3.st"
cmp "$T/inproc3.st" "$T/mpi3.st"
echo "ok   3 MPI ranks == --device 0,0,0"

# 2 ranks stopped at step 5, resumed by one process with --accumulate 2.
"${MPIRUN[@]}" -np 2 "$MBN" train "${common[@]}" --ckpt-dir "$T/a" --max-steps 5 >/dev/null
cp -r "$T/a" "$T/b"
"$MBN" train "${common[@]}" --accumulate 2 --ckpt-dir "$T/a" --resume auto >/dev/null 2>&1
weights "$T/a/mobilenetv1-2_16.ckpt" "$T/a.st"
cmp "$T/mpi.st" "$T/a.st"
"$MBN" train "${common[@]}" --ckpt-dir "$T/b" --resume auto >/dev/null 2>"$T/b.err"
grep -q "at epoch 1, step 10$" "$T/b.err" || { echo "FAIL: resume position"; cat "$T/b.err"; exit 1; }
test -f "$T/b/mobilenetv1-2_32.ckpt"
echo "ok   2 ranks resumed by 1 process: --accumulate 2 identical; plain continues at step 10 of 32"

# One process (--accumulate 2) stopped at step 7, resumed by 2 ranks.
"$MBN" train "${common[@]}" --accumulate 2 --ckpt-dir "$T/c" --max-steps 7 >/dev/null
"${MPIRUN[@]}" -np 2 "$MBN" train "${common[@]}" --ckpt-dir "$T/c" --resume auto >/dev/null 2>&1
weights "$T/c/mobilenetv1-2_16.ckpt" "$T/c.st"
cmp "$T/mpi.st" "$T/c.st"
echo "ok   1 process resumed by 2 ranks: identical to the straight 2-rank run"
