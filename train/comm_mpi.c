#include "train/comm_mpi.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

static const char *env_nonempty(const char *name) {
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

bool mbn_mpi_launched(void) {
    const char *size = env_nonempty("OMPI_COMM_WORLD_SIZE");
    if (!size) size = env_nonempty("PMI_SIZE");
    if (size) return atoi(size) >= 1;
    return env_nonempty("PMIX_RANK") != NULL;
}

int mbn_mpi_env_rank(void) {
    const char *names[] = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *v = env_nonempty(names[i]);
        if (v) return atoi(v);
    }
    return 0;
}

#ifdef MBN_WITH_MPI
#include <mpi.h>

typedef struct {
    float *tmp; /* one chunk, received from the left neighbour */
    size_t tmp_floats;
} MpiImpl;

static MpiImpl impl;

bool mbn_mpi_available(void) {
    return true;
}

/* MPI counts are ints: a chunk (a world-th of 17 MB for 1.0-224) is far below that. */
static int check_count(size_t n) {
    if (n > (size_t)INT_MAX)
        return mbn_fail(MBN_EFAIL, "MPI: a message of %zu elements is too large", n);
    return MBN_OK;
}

static int mpi_allreduce_mean(MbnComm *c, float *const *bufs, size_t count) {
    int n = c->world, r = c->rank;
    if (n == 1) return MBN_OK; /* the mean of one rank is its own buffer (x * 1.0f == x) */
    float *buf = bufs[0];
    size_t max_chunk = count / (size_t)n + 1;
    if (impl.tmp_floats < max_chunk) {
        free(impl.tmp);
        impl.tmp = malloc(max_chunk * sizeof(float));
        impl.tmp_floats = impl.tmp ? max_chunk : 0;
        if (!impl.tmp) return mbn_fail(MBN_EFAIL, "out of host memory for the allreduce");
    }
    MBN_TRY(check_count(max_chunk));
    int right = (r + 1) % n, left = (r + n - 1) % n;
    /* Reduce-scatter: at step k this rank passes on its partial sum of chunk r-k and adds its
     * own values to the partial sum of chunk r-k-1 from the left. Chunk c thus starts at rank c
     * and gathers ranks c+1, c+2, ... in turn: model/comm.h's order. */
    for (int k = 0; k < n - 1; k++) {
        int send_c = (r - k + 2 * n) % n, recv_c = (r - k - 1 + 2 * n) % n;
        size_t slo, shi, rlo, rhi;
        mbn_comm_chunk(count, n, send_c, &slo, &shi);
        mbn_comm_chunk(count, n, recv_c, &rlo, &rhi);
        MPI_Sendrecv(buf + slo, (int)(shi - slo), MPI_FLOAT, right, 1, impl.tmp, (int)(rhi - rlo),
                     MPI_FLOAT, left, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        for (size_t i = 0; i < rhi - rlo; i++)
            buf[rlo + i] = impl.tmp[i] + buf[rlo + i];
    }
    /* This rank now holds the whole sum of chunk r+1. */
    size_t lo, hi;
    mbn_comm_chunk(count, n, (r + 1) % n, &lo, &hi);
    float inv = 1.0f / (float)n;
    for (size_t i = lo; i < hi; i++)
        buf[i] *= inv;
    /* Allgather: the finished chunks travel once around the ring. */
    for (int k = 0; k < n - 1; k++) {
        int send_c = (r + 1 - k + 2 * n) % n, recv_c = (r - k + 2 * n) % n;
        size_t slo, shi, rlo, rhi;
        mbn_comm_chunk(count, n, send_c, &slo, &shi);
        mbn_comm_chunk(count, n, recv_c, &rlo, &rhi);
        MPI_Sendrecv(buf + slo, (int)(shi - slo), MPI_FLOAT, right, 2, buf + rlo, (int)(rhi - rlo),
                     MPI_FLOAT, left, 2, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    }
    return MBN_OK;
}

static int mpi_broadcast(MbnComm *c, void *buf, size_t bytes) {
    (void)c;
    const size_t piece = (size_t)1 << 30;
    for (size_t off = 0; off < bytes; off += piece) {
        size_t n = bytes - off < piece ? bytes - off : piece;
        MPI_Bcast((char *)buf + off, (int)n, MPI_BYTE, 0, MPI_COMM_WORLD);
    }
    return MBN_OK;
}

static int mpi_barrier(MbnComm *c) {
    (void)c;
    MPI_Barrier(MPI_COMM_WORLD);
    return MBN_OK;
}

int mbn_comm_mpi_init(MbnComm *c, int *local_rank, int *local_size) {
    int provided = 0, inited = 0;
    MPI_Initialized(&inited);
    /* Only the main thread calls MPI (the loader's threads never do). */
    if (!inited && MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        return mbn_fail(MBN_EFAIL, "MPI_Init failed");
    memset(c, 0, sizeof *c);
    MPI_Comm_rank(MPI_COMM_WORLD, &c->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &c->world);
    c->n_local = 1;
    c->allreduce_mean = mpi_allreduce_mean;
    c->broadcast = mpi_broadcast;
    c->barrier = mpi_barrier;
    c->name = "MPI";
    c->impl = &impl;
    MPI_Comm node;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, c->rank, MPI_INFO_NULL, &node);
    MPI_Comm_rank(node, local_rank);
    MPI_Comm_size(node, local_size);
    MPI_Comm_free(&node);
    return MBN_OK;
}

void mbn_comm_mpi_finalize(MbnComm *c) {
    (void)c;
    free(impl.tmp);
    impl.tmp = NULL;
    impl.tmp_floats = 0;
    int fin = 0;
    MPI_Finalized(&fin);
    if (!fin) MPI_Finalize();
}

void mbn_comm_mpi_abort(int status) {
    MPI_Abort(MPI_COMM_WORLD, status);
}

#else /* built without MPI */

bool mbn_mpi_available(void) {
    return false;
}

int mbn_comm_mpi_init(MbnComm *c, int *local_rank, int *local_size) {
    (void)c;
    *local_rank = 0;
    *local_size = 1;
    return mbn_fail(MBN_EFAIL, "this mbn was built without MPI (install libopenmpi-dev and "
                               "rebuild: cmake finds it)");
}

void mbn_comm_mpi_finalize(MbnComm *c) {
    (void)c;
}

void mbn_comm_mpi_abort(int status) {
    exit(status);
}
#endif
