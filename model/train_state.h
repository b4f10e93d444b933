/* Training state <-> checkpoint: the network's tensors (timm names, momentum included), the
 * model config, and the position in training. Everything else a resumed run needs is derived
 * from these: the data order and augmentation come from (seed, epoch, sample index), the
 * learning rate from the global step. */
#ifndef MBN_MODEL_TRAIN_STATE_H
#define MBN_MODEL_TRAIN_STATE_H
#include <stdbool.h>
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
    /* Images per optimizer step (batch size x ranks x micro-batches) of the run at this
     * position, so a run resumed with other counts can restate step_in_epoch in its own steps;
     * 0 in checkpoints from before it was recorded. */
    int64_t samples_per_step;
    /* Images per step in this epoch's checkpoint names: samples_per_step, or that of the run
     * that began the epoch when a resume changed it mid-epoch (so names stay in order). */
    int64_t name_step_samples;
} MbnTrainPosition;

/* Restates a loaded position for a run with `steps_per_epoch` steps of `samples_per_step`
 * images (other ranks, batch size or --accumulate than the run that saved it): the same number
 * of images into the epoch, rounded down to whole steps (*repeated: images that will be trained
 * again), the next epoch when this one is done, and the global step counted in the new steps
 * (epoch * steps_per_epoch + step_in_epoch) whenever the steps per epoch changed, so that the
 * learning-rate schedule stays at the same point of the epoch. A position that does not record
 * its samples per step (older checkpoints) restarts the epoch if the steps per epoch changed.
 * Returns true when the position was restated. */
bool mbn_train_position_restate(MbnTrainPosition *pos, int64_t steps_per_epoch,
                                int64_t samples_per_step, int64_t *repeated);
/* The step number of this position in checkpoint file names (see name_step_samples). */
int64_t mbn_train_position_name_step(const MbnTrainPosition *pos);

int mbn_train_state_save(const char *path, MbnNet *net, const MbnTrainPosition *pos);
/* Loads a checkpoint into the net (after checking its model config against the net's) and
 * returns the position. Nothing is changed on failure. */
int mbn_train_state_load(const char *path, MbnNet *net, MbnTrainPosition *pos);

#endif
