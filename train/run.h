/* A training run around model/'s training loop: the run folder (checkpoints, labels.txt, the
 * CSV log), datasets and loaders, the networks with their initial weights (seeded init,
 * init_path weights or a resumed checkpoint), signal handling, progress and console lines.
 * Errors name the parameters of MbnTrainConfig (e.g. "ckpt_dir"); apps/ words them as flags. */
#ifndef MBN_TRAIN_RUN_H
#define MBN_TRAIN_RUN_H
#include <stdbool.h>
#include <stdint.h>

#include "host/device.h"
#include "model/comm.h"
#include "model/schedule.h"

typedef struct {
    float alpha;
    int resolution;
    int num_classes; /* 0: take the dataset's class count */
    const char *data_dir;
    int batch_size; /* per device (rank), as the seed's batch_size per GPU */
    int accumulate; /* micro-batches of batch_size per rank and optimizer step (>= 1) */
    int workers;
    int epochs;
    MbnLrSchedule lr;
    float momentum, weight_decay, smoothing;
    bool decay_all; /* false: no decay on depthwise weights, BN parameters and biases */
    uint64_t seed;
    const char *ckpt_dir;
    int keep_max;
    int64_t save_every_steps; /* 0: once per epoch only */
    const char *resume;       /* NULL, "auto" or a checkpoint path */
    const char *init_path;    /* safetensors weights to start from */
    bool eval;                /* evaluate on the val/test split after each epoch */
    int64_t max_steps;        /* stop (with a checkpoint) after this global step; 0: no limit */
    bool quiet;               /* no progress bar / log lines */
    MbnDevice *devices;       /* one per rank this process drives (comm->n_local) */
    int n_devices;
    /* Seconds a rank may wait in a gradient exchange for ranks that show no sign of being busy
     * elsewhere before it ends the job (MbnComm.timeout; MPI ranks only). */
    double comm_timeout;
    size_t bucket_bytes; /* the exchange overlaps backward in buckets of this size; 0: not */
} MbnTrainConfig;

typedef struct {
    char checkpoint[1200]; /* the last checkpoint written */
    int epochs;
    int64_t steps;
    int64_t steps_run; /* by this run (steps counts from the start of training) */
    double loss;
    double val_top1, val_top5, val_loss; /* NaN when not evaluated */
    double seconds;
    int64_t skipped;
    double comm_seconds;         /* in the gradient exchanges */
    double comm_exposed_seconds; /* the part of them not hidden behind backward */
    bool interrupted;
    bool failed_everywhere; /* see MbnLoopResult */
} MbnTrainResult;

/* Trains on cfg->devices as ranks comm->rank .. comm->rank + n_local - 1 of comm->world. Rank 0
 * creates the run folder, reads the starting weights, logs, evaluates and checkpoints; the
 * other ranks print nothing. */
int mbn_train(const MbnTrainConfig *cfg, MbnComm *comm, MbnTrainResult *res);

#endif
