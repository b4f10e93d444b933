/* The ranks `mbn train` drives in this process. Started by mpirun (or another MPI launcher):
 * one MPI rank with one device, the device being this rank's local rank (among the ranks on
 * its machine) into the devices --device matches, round-robin when there are more ranks than
 * devices; no --device means every GPU, else the first device. Otherwise: the devices
 * --device lists ("0,1", "all"), each an in-process rank. */
#ifndef MBN_TRAIN_RANKS_H
#define MBN_TRAIN_RANKS_H
#include <stdbool.h>

#include "host/device.h"
#include "model/comm.h"

typedef struct {
    MbnComm comm;
    bool mpi; /* MPI is initialised (finalise or abort through mbn_train_ranks_end) */
    MbnDevice *devices;
    int n_devices;
} MbnTrainRanks;

int mbn_train_ranks_open(MbnTrainRanks *tr, const char *device_sel);
/* Closes the devices and ends MPI. A non-zero status that every rank reaches at the same point
 * (`everywhere`: a stop or a non-finite loss agreed in the allreduce) lets MPI finalise; any
 * other failure may be this rank's alone while the others wait for it, so it ends every rank
 * of the job at once (MPI_Abort) with that status. Returns status. */
int mbn_train_ranks_end(MbnTrainRanks *tr, int status, bool everywhere);

#endif
