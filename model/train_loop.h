/* The one training loop, shared by single-device and data-parallel runs (SPEC §2): epochs of
 * steps over a seeded, sharded loader; per step forward, smoothed loss, backward, gradient
 * averaging across ranks (fixed rank order, so deterministic), momentum SGD with the
 * schedule's learning rate; per-step loss and per-epoch time (the seed's LossMonitor and
 * TimeMonitor), a progress bar or log lines, a CSV log, checkpoints per epoch (and every N
 * steps), evaluation after each epoch, NaN/Inf detection and a clean stop on Ctrl-C. */
#ifndef MBN_MODEL_TRAIN_LOOP_H
#define MBN_MODEL_TRAIN_LOOP_H
#include <stdbool.h>
#include <stdint.h>

#include "host/device.h"
#include "model/arch.h"
#include "model/schedule.h"

typedef struct {
    float alpha;
    int resolution;
    int num_classes; /* 0: take the dataset's class count */
    const char *data_dir;
    int batch_size; /* per device (rank), as the seed's batch_size per GPU */
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
    const char *init;         /* safetensors weights to start from */
    bool eval;                /* evaluate on the val/test split after each epoch */
    int64_t max_steps;        /* stop (with a checkpoint) after this global step; 0: no limit */
    bool quiet;               /* no progress bar / log lines */
    MbnDevice *devices;
    int n_devices;
} MbnTrainConfig;

typedef struct {
    char checkpoint[1200];
    int epochs;
    int64_t steps;
    double loss;
    double val_top1, val_top5, val_loss; /* NaN when not evaluated */
    double seconds;
    int64_t skipped;
    bool interrupted;
} MbnTrainResult;

int mbn_train(const MbnTrainConfig *cfg, MbnTrainResult *res);

#endif
