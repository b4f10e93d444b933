#include "model/comm.h"

#include <stdint.h>

#include "base/error.h"

void mbn_comm_chunk(size_t count, int n, int c, size_t *lo, size_t *hi) {
    /* count * c fits: count is a buffer length in floats and c < n <= a few thousand. */
    *lo = (size_t)((uint64_t)count * (uint64_t)c / (uint64_t)n);
    *hi = (size_t)((uint64_t)count * (uint64_t)(c + 1) / (uint64_t)n);
}

void mbn_comm_fold_mean(float *const *bufs, int n, size_t count, size_t lo, size_t hi) {
    float inv = 1.0f / (float)n;
    for (int c = 0; c < n; c++) {
        size_t clo, chi;
        mbn_comm_chunk(count, n, c, &clo, &chi);
        /* The part of chunk c inside [lo, hi): its elements start their sums at rank c. */
        for (size_t i = clo > lo ? clo : lo; i < chi && i < hi; i++) {
            /* Each element is finished in a register before bufs[0][i] is overwritten. */
            float acc = bufs[c][i];
            for (int j = 1; j < n; j++)
                acc += bufs[(c + j) % n][i];
            bufs[0][i] = acc * inv;
        }
    }
}

static int local_allreduce_mean(MbnComm *c, float *const *bufs, size_t count, size_t lo,
                                size_t hi) {
    /* The mean of one rank is its own buffer (x * 1.0f == x). */
    if (c->n_local > 1) mbn_comm_fold_mean(bufs, c->n_local, count, lo, hi);
    return MBN_OK;
}

/* One process holds every rank: rank 0's data is already where the others read it. */
static int local_broadcast(MbnComm *c, void *buf, size_t bytes) {
    (void)c, (void)buf, (void)bytes;
    return MBN_OK;
}

static int local_barrier(MbnComm *c) {
    (void)c;
    return MBN_OK;
}

void mbn_comm_local_init(MbnComm *c, int n) {
    c->rank = 0;
    c->world = n;
    c->n_local = n;
    c->allreduce_mean = local_allreduce_mean;
    c->broadcast = local_broadcast;
    c->barrier = local_barrier;
    c->name = "in-process";
    c->timeout = 0;
    c->waiting = NULL;
    c->waiting_ctx = NULL;
    c->impl = NULL;
}
