#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include "train/ranks.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "tune/open.h"
#include "train/comm_mpi.h"

/* In-process: every device SEL lists is a rank; plain SEL (an index or a name) picks one. */
static int open_local(MbnTrainRanks *tr, const char *sel) {
    MbnDeviceInfo *all = NULL;
    int count = 0, *idx = NULL, n_sel = 0;
    MBN_TRY(mbn_devices_list(&all, &count));
    int rc = mbn_devices_select(sel, all, count, &idx, &n_sel);
    if (rc == MBN_OK && sel && strcmp(sel, "all") != 0 && !strchr(sel, ',')) n_sel = 1;
    MbnDevice *devs = rc ? NULL : calloc((size_t)n_sel, sizeof *devs);
    if (rc == MBN_OK && !devs) rc = mbn_fail(MBN_EFAIL, "out of host memory");
    int opened = 0;
    for (; rc == MBN_OK && opened < n_sel; opened++) {
        rc = mbn_device_open(&devs[opened], &all[idx[opened]]);
        if (rc) break;
    }
    if (rc) {
        for (int i = 0; i < opened; i++)
            mbn_device_close(&devs[i]);
        free(devs);
        devs = NULL;
    }
    free(idx);
    free(all);
    tr->devices = devs;
    tr->n_devices = rc ? 0 : n_sel;
    if (rc == MBN_OK) mbn_comm_local_init(&tr->comm, n_sel);
    return rc;
}

/* PoCL runs one thread per core whatever the process's CPU affinity, so N ranks on one machine
 * would each start a thread per core and fight over them. Unless the user set it, each rank's
 * PoCL gets its share: the cores it is bound to (mpirun binds each of two ranks to a core), at
 * most cores / local ranks. Only PoCL reads the variable; it must be set before OpenCL starts. */
static void share_cpu_cores(int local_size) {
    if (local_size <= 1 || getenv("POCL_MAX_PTHREAD_COUNT")) return;
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    long share = online > 0 ? online / local_size : 1;
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) < share)
        share = CPU_COUNT(&set);
    if (share < 1) share = 1;
    char v[32];
    snprintf(v, sizeof v, "%ld", share);
    setenv("POCL_MAX_PTHREAD_COUNT", v, 0);
}

/* One MPI rank: its device is its local rank into the devices SEL matches. */
static int open_mpi(MbnTrainRanks *tr, const char *sel) {
    int local_rank = 0, local_size = 1;
    MBN_TRY(mbn_comm_mpi_init(&tr->comm, &local_rank, &local_size));
    tr->mpi = true;
    share_cpu_cores(local_size);
    MbnDeviceInfo *all = NULL;
    int count = 0, *idx = NULL, n = 0;
    MBN_TRY(mbn_devices_list(&all, &count));
    if (!sel || !*sel) sel = getenv("MBN_DEVICE");
    int rc = MBN_OK;
    if (sel && *sel) {
        rc = mbn_devices_select(sel, all, count, &idx, &n);
    } else if (count == 0) {
        rc = mbn_devices_select(NULL, all, count, &idx, &n); /* the "no device" message */
    } else {
        idx = calloc((size_t)count, sizeof *idx);
        if (!idx) rc = mbn_fail(MBN_EFAIL, "out of host memory");
        for (int i = 0; idx && i < count; i++)
            if (all[i].type & CL_DEVICE_TYPE_GPU) idx[n++] = i;
        if (idx && n == 0) idx[n++] = 0;
    }
    if (rc == MBN_OK) tr->devices = calloc(1, sizeof *tr->devices);
    if (rc == MBN_OK && !tr->devices) rc = mbn_fail(MBN_EFAIL, "out of host memory");
    if (rc == MBN_OK) rc = mbn_device_open(&tr->devices[0], &all[idx[local_rank % n]]);
    if (rc == MBN_OK) tr->n_devices = 1;
    free(idx);
    free(all);
    return rc;
}

int mbn_train_ranks_open(MbnTrainRanks *tr, const char *device_sel) {
    memset(tr, 0, sizeof *tr);
    if (!mbn_mpi_launched()) return open_local(tr, device_sel);
    if (!mbn_mpi_available())
        return mbn_fail(MBN_EFAIL,
                        "started by an MPI launcher, but this mbn was built without MPI, so "
                        "every process would train alone (install libopenmpi-dev and rebuild)");
    return open_mpi(tr, device_sel);
}

int mbn_train_ranks_end(MbnTrainRanks *tr, int status, bool everywhere) {
    for (int i = 0; i < tr->n_devices; i++)
        mbn_device_close(&tr->devices[i]);
    free(tr->devices);
    tr->devices = NULL;
    tr->n_devices = 0;
    if (!tr->mpi) return status;
    fflush(stdout);
    fflush(stderr);
    if (status != 0 && !everywhere && tr->comm.world > 1) mbn_comm_mpi_abort(status);
    /* mpirun ends the whole job as soon as one rank exits non-zero (an interrupted run exits
     * 1): no rank leaves before rank 0 has written its checkpoint and its last words. */
    tr->comm.barrier(&tr->comm);
    mbn_comm_mpi_finalize(&tr->comm);
    tr->mpi = false;
    return status;
}
