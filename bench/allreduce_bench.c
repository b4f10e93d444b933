/* The gradient allreduce alone: mbn's ring (train/comm_mpi.c, fixed summation order) against
 * MPI_Allreduce(MPI_SUM) on the same buffer, per size, between the ranks of
 *   mpirun -np N build/bench/allreduce_bench [FLOATS...]
 * (default: the fused buffers of MobileNet V1 1.0-224 and 0.25-32 at 1000/10 classes).
 * Prints ms per call and the bus bandwidth 2(N-1)/N * bytes / time, the figure a ring's link
 * speed is compared with (NCCL's convention). MBN_BENCH_BUCKET=F: mbn's exchange in buckets of F
 * floats, one call after the other (as the training loop overlaps them with backward). */
#include <stdio.h>
#include <stdlib.h>

#include "base/clock.h"
#include "train/comm_mpi.h"

#ifdef MBN_WITH_MPI
#include <mpi.h>
#endif

int main(int argc, char **argv) {
    if (!mbn_mpi_available() || !mbn_mpi_launched()) {
        fprintf(stderr, "allreduce_bench: run it under mpirun in an MPI build\n");
        return mbn_mpi_available() ? 2 : 0;
    }
    MbnComm c;
    int local_rank, local_size;
    if (mbn_comm_mpi_init(&c, &local_rank, &local_size)) return 1;
    size_t sizes[16] = {4231976 + 2 + 1024, 220000};
    const char *bucket_env = getenv("MBN_BENCH_BUCKET");
    size_t bucket = bucket_env ? (size_t)strtoull(bucket_env, NULL, 10) : 0;
    int n_sizes = 2;
    if (argc > 1) {
        n_sizes = 0;
        for (int i = 1; i < argc && n_sizes < 16; i++)
            sizes[n_sizes++] = (size_t)strtoull(argv[i], NULL, 10);
    }
    if (c.rank == 0)
        printf("| floats | MB | ranks | mbn ring ms | bus GB/s | MPI_Allreduce ms | bus GB/s |\n"
               "|---|---|---|---|---|---|---|\n");
    for (int s = 0; s < n_sizes; s++) {
        size_t n = sizes[s];
        float *buf = malloc(n * sizeof *buf), *bufs[1] = {buf};
        if (!buf) return 1;
        int iters = n > 1000000 ? 20 : 100;
        double best_ring = 1e30, best_mpi = 1e30;
        for (int rep = 0; rep < 3; rep++) {
            for (size_t i = 0; i < n; i++)
                buf[i] = (float)((i * 7 + (size_t)c.rank) % 13) * 0.01f;
            c.barrier(&c);
            double t0 = mbn_now();
            for (int k = 0; k < iters; k++)
                for (size_t hi = n; hi > 0;) {
                    size_t lo = bucket && hi > bucket ? hi - bucket : 0;
                    c.allreduce_mean(&c, bufs, n, lo, hi);
                    hi = lo;
                }
            c.barrier(&c);
            double t1 = mbn_now();
#ifdef MBN_WITH_MPI
            for (int k = 0; k < iters; k++)
                MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
#endif
            c.barrier(&c);
            double t2 = mbn_now();
            if ((t1 - t0) / iters < best_ring) best_ring = (t1 - t0) / iters;
            if ((t2 - t1) / iters < best_mpi) best_mpi = (t2 - t1) / iters;
        }
        double bus = 2.0 * (c.world - 1) / c.world * (double)n * sizeof(float);
        if (c.rank == 0)
            printf("| %zu | %.1f | %d | %.3f | %.2f | %.3f | %.2f |\n", n, n * 4.0 / 1e6, c.world,
                   best_ring * 1e3, bus / best_ring / 1e9, best_mpi * 1e3, bus / best_mpi / 1e9);
        free(buf);
    }
    mbn_comm_mpi_finalize(&c);
    return 0;
}
