# Sourced by tests/cli_mpi_*.sh: the MPI launcher, or a visible skip (exit 77) when mbn was
# built without MPI. MBN_MPIEXEC comes from CMake (FindMPI's MPIEXEC_EXECUTABLE).
if ! "$MBN" --version | grep -q "^MPI: yes"; then
    echo "SKIP: this mbn was built without MPI"
    exit 77
fi
MPIEXEC=${MBN_MPIEXEC:-$(command -v mpiexec || true)}
[ -n "$MPIEXEC" ] || { echo "FAIL: mbn was built with MPI but there is no mpiexec"; exit 1; }
# --oversubscribe: more ranks than cores is fine for these tiny runs. The vader setting avoids
# single-copy (CMA) transfers, which containers' seccomp profiles often forbid.
MPIRUN=("$MPIEXEC" --oversubscribe --mca btl_vader_single_copy_mechanism none)
[ "$(id -u)" = 0 ] && MPIRUN+=(--allow-run-as-root)

# The pid of rank $2 among the children of launcher pid $1 (empty when not started yet).
rank_pid() {
    local c
    for c in $(pgrep -P "$1" || true); do
        if tr '\0' '\n' <"/proc/$c/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$2"; then
            echo "$c"
            return
        fi
    done
}

# Under AddressSanitizer (ci/test-sanitizers.sh), LeakSanitizer's exit-time scan crashes inside
# Open MPI ("Tracer caught signal 11": it stops every thread, MPI's own included), so the MPI
# runs keep ASan's and UBSan's other checks only; the in-process tests leak-check the same loop.
if [ -n "${ASAN_OPTIONS:-}" ]; then export ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0"; fi
