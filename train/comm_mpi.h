/* The MPI implementation of MbnComm (model/comm.h): one rank per process, launched by
 * `mpirun -np N mbn train ...` (Open MPI; any MPI-3 library should do).
 *
 * The allreduce of a range of the buffer moves its parts along the ring of ranks (rank r sends
 * to r+1): the part inside chunk c of the whole buffer (model/comm.h) is added up from rank c
 * onwards, hop by hop, scaled at the last rank and passed on around the ring again, so every
 * element is summed in the order model/comm.h fixes and the result has the bits of the
 * in-process fold. The parts are cut into segments that follow each other one hop apart, so a
 * range that lies inside one chunk (a bucket of the overlapped exchange) still keeps every link
 * busy in both directions; for the whole buffer this is the bandwidth of a ring allreduce
 * (reduce-scatter, then allgather).
 *
 * Every wait is non-blocking MPI polled with short sleeps (the core stays with the device while
 * the backward pass runs beside an exchange), and bounded by MbnComm.timeout: a rank that has
 * waited that long ends the job (MPI_Abort) with one line naming itself, its host, how long it
 * waited and the rank it last heard from least recently. Waiting for a rank that is merely busy
 * elsewhere (rank 0 evaluating, a host compiling its kernels) does not count: every rank's
 * heartbeat thread sends every other rank, several times a second, whether it is waiting in an
 * exchange or busy, and how many exchanges it has completed. The clock stops while every other
 * rank is heard from and one of them is busy short of the current exchange; it runs when a rank
 * falls silent (a cut link, a stopped host) or when every rank waits and nothing moves.
 *
 * Without MPI at build time (CMake found none, or -DMBN_MPI=OFF) the functions below exist but
 * mbn_mpi_available() is false and mbn_comm_mpi_init fails. */
#ifndef MBN_TRAIN_COMM_MPI_H
#define MBN_TRAIN_COMM_MPI_H
#include <stdbool.h>

#include "model/comm.h"

bool mbn_mpi_available(void);
/* The launcher's environment says this process is one of several ranks (Open MPI's
 * OMPI_COMM_WORLD_SIZE, or PMI_SIZE / PMIX_RANK of Slurm-style launchers). Readable before
 * MPI is initialised. */
bool mbn_mpi_launched(void);
/* This process's rank from the launcher's environment (0 when there is none): lets only rank 0
 * report usage errors, which every rank sees alike, before MPI is up. */
int mbn_mpi_env_rank(void);

/* Initialises MPI and fills c (n_local = 1, timeout 0: set it before the first exchange). Starts
 * the heartbeat thread when there are other ranks. *local_rank and *local_size: this rank among
 * the ranks on its machine (MPI_COMM_TYPE_SHARED), for picking a device. */
int mbn_comm_mpi_init(MbnComm *c, int *local_rank, int *local_size);
/* Stops the heartbeat thread and finalises MPI. */
void mbn_comm_mpi_finalize(MbnComm *c);
/* Ends every rank of the job now, with this exit status (MPI_Abort). */
void mbn_comm_mpi_abort(int status);

#endif
