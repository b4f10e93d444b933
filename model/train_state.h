/* Training state <-> checkpoint: the network's tensors (timm names, momentum included), the
 * model config, and the position in training. Everything else a resumed run needs is derived
 * from these: the data order and augmentation come from (seed, epoch, sample index), the
 * learning rate from the global step. */
#ifndef MBN_MODEL_TRAIN_STATE_H
#define MBN_MODEL_TRAIN_STATE_H
#include <stdint.h>

#include "io/formats/checkpoint.h"
#include "model/net.h"

typedef struct {
    int epoch;             /* epoch in progress (0-based) */
    int64_t step_in_epoch; /* batches of that epoch already trained */
    int64_t global_step;   /* optimizer steps so far */
    int64_t steps_per_epoch;
    uint64_t seed;
    double loss; /* last loss */
    /* The `mbn tune` decisions the run was trained under (MbnDevice.tuning; "untuned"), read
     * back on resume so the loop can say when it continues under others (other kernels or
     * parameters give other rounding, so not the same bits). "" in older checkpoints. */
    char tuning[24];
} MbnTrainPosition;

int mbn_train_state_save(const char *path, MbnNet *net, const MbnTrainPosition *pos);
/* Loads a checkpoint into the net (after checking its model config against the net's) and
 * returns the position. Nothing is changed on failure. */
int mbn_train_state_load(const char *path, MbnNet *net, MbnTrainPosition *pos);

#endif
