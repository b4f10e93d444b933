/* The MPI implementation of MbnComm (model/comm.h): one rank per process, launched by
 * `mpirun -np N mbn train ...` (Open MPI; any MPI-3 library should do). The allreduce is a ring
 * (reduce-scatter, then allgather, with MPI_Sendrecv between neighbours): bandwidth-optimal
 * like MPI_Allreduce's large-message algorithms, and with the summation order that
 * model/comm.h fixes, so the result has the same bits as the in-process fold.
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

/* Initialises MPI and fills c (n_local = 1). *local_rank and *local_size: this rank among the
 * ranks on its machine (MPI_COMM_TYPE_SHARED), for picking a device. */
int mbn_comm_mpi_init(MbnComm *c, int *local_rank, int *local_size);
void mbn_comm_mpi_finalize(MbnComm *c);
/* Ends every rank of the job now, with this exit status (MPI_Abort). */
void mbn_comm_mpi_abort(int status);

#endif
