/* How the training loop talks to the other ranks of a data-parallel run (SPEC §8): the rank and
 * world size, an averaging allreduce of a range of one fused buffer (the gradients, the loss and
 * the stop flag), a broadcast from rank 0 and a barrier. Two implementations: in-process devices
 * (mbn_comm_local, below: every rank is a network driven by this process) and MPI
 * (train/comm_mpi.c: one rank per process, possibly on many machines).
 *
 * The order of the sums is part of the contract, so that every implementation gives the same
 * bits: the whole buffer of `count` floats is cut into `world` chunks (mbn_comm_chunk), and an
 * element of chunk c is summed starting at rank c and going up the ranks cyclically,
 *     ((g[c] + g[c+1]) + g[c+2]) + ... + g[c+world-1]      (ranks mod world),
 * then multiplied by 1/world. That is the order in which a ring allreduce (reduce-scatter, then
 * allgather) adds the ranks' values, so the MPI ring and the in-process fold agree bit for bit
 * for any world size; at world 2 every chunk is g[0] + g[1] (float addition is commutative).
 * The chunks are those of the whole buffer whatever range [lo, hi) one call averages, so the
 * buffer exchanged in buckets (the training loop's overlap with backward) has the same bits as
 * the buffer exchanged at once. A plain MPI_Allreduce would leave the order to the library. */
#ifndef MBN_MODEL_COMM_H
#define MBN_MODEL_COMM_H
#include <stdbool.h>
#include <stddef.h>

typedef struct MbnComm MbnComm;

struct MbnComm {
    int rank;    /* global rank of this process's first rank */
    int world;   /* ranks in the job */
    int n_local; /* ranks driven by this process (in-process devices); rank .. rank+n_local-1 */
    /* Averages elements [lo, hi) of `count`-float buffers over every rank in the order above.
     * bufs[i] is local rank i's buffer (n_local of them); the mean is left in bufs[0] (the other
     * buffers' range is clobbered). Every rank makes the same calls in the same order. */
    int (*allreduce_mean)(MbnComm *c, float *const *bufs, size_t count, size_t lo, size_t hi);
    /* Rank 0's `bytes` bytes at buf reach buf on every rank. */
    int (*broadcast)(MbnComm *c, void *buf, size_t bytes);
    int (*barrier)(MbnComm *c);
    const char *name; /* "in-process" or "MPI", for messages */
    /* Seconds a rank may wait in one of the calls above while no other rank shows that it is
     * merely busy elsewhere (train/comm_mpi.c); then the job ends. 0: wait forever. */
    double timeout;
    /* Called over and over while the calls above wait for other ranks (NULL: nothing): the
     * training loop notes there when its device finished the backward pass. */
    void (*waiting)(void *ctx);
    void *waiting_ctx;
    void *impl;
};

/* The in-process implementation: world = n_local = n ranks, all in this process. */
void mbn_comm_local_init(MbnComm *c, int n);

/* Chunk c of `count` elements cut into n chunks: [*lo, *hi). */
void mbn_comm_chunk(size_t count, int n, int c, size_t *lo, size_t *hi);

/* The reference arithmetic of allreduce_mean over n buffers of `count` floats held in one place:
 * the mean of elements [lo, hi), summed in the chunked rotated order above, into bufs[0]. Used by
 * the in-process implementation and by gradient accumulation (micro-batches as ranks). */
void mbn_comm_fold_mean(float *const *bufs, int n, size_t count, size_t lo, size_t hi);

#endif
