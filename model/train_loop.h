/* The one training loop, shared by single-device and data-parallel runs, in-process or over MPI
 * (SPEC §2, §8): epochs of steps over seeded, sharded loaders; per step forward, smoothed loss,
 * backward on every rank, then one averaging allreduce (model/comm.h: fixed summation order, so
 * deterministic) of a fused buffer holding the gradients, the loss and the stop flag, then
 * momentum SGD with the schedule's learning rate on every rank. Rank 0's weights, momentum and
 * training position are broadcast before the first step, so every rank starts from the same
 * state. Rank 0 checkpoints every epoch (and every save_every_steps steps, and when stopping)
 * and evaluates after each epoch. A non-finite loss stops every rank at the same step, and so
 * does a stop asked for on any rank: the flag travels in the allreduce.
 *
 * In-process ranks overlap: every rank's forward and backward are queued before the loop waits
 * for any of them. The exchange overlaps backward: the fused buffer is exchanged in buckets of
 * whole layers (bucket_bytes), the last layers first; each bucket's gradients are read as soon
 * as backward has queued the kernels that finish them, its exchange starts once they are read
 * while the device goes on with the layers below, and its averaged gradients are written back
 * and their SGD step queued right after. model/comm.h keeps the order of every sum whatever the
 * buckets, so the weights have the bits of one exchange after backward (bucket_bytes 0).
 *
 * Gradient accumulation (accumulate = M > 1): each rank runs M micro-batches per step, each the
 * batch that rank r*M + m of a world*M-rank run would get, and their gradients are averaged in
 * model/comm.h's order before the ranks' allreduce. In one process (world 1) that is the
 * M-rank run exactly, to the bit: BatchNorm batch statistics are per micro-batch as they are
 * per rank, and the running statistics follow micro-batch 0 only, as the checkpoint of an
 * M-rank run holds rank 0's. With world > 1 as well, the sum is taken in two levels (micro-
 * batches, then ranks): deterministic, but not the bits of a world*M-rank run.
 *
 * What is not the model lives above it (train/): the run folder, the CSV log, labels.txt,
 * signals, progress and console output reach the loop through MbnTrainHooks. */
#ifndef MBN_MODEL_TRAIN_LOOP_H
#define MBN_MODEL_TRAIN_LOOP_H
#include <stdbool.h>
#include <stdint.h>

#include "io/data/loader.h"
#include "model/comm.h"
#include "model/evaluate.h"
#include "model/net.h"
#include "model/schedule.h"
#include "model/train_state.h"

typedef struct {
    int epochs;
    MbnLrSchedule lr; /* steps_per_epoch filled in */
    float momentum, weight_decay, smoothing;
    bool decay_all;           /* false: no decay on depthwise weights, BN parameters and biases */
    int64_t save_every_steps; /* 0: once per epoch only */
    int64_t max_steps;        /* stop (with a checkpoint) after this global step; 0: no limit */
    bool quiet;               /* no evaluation progress */
    size_t bucket_bytes;      /* gradient exchange buckets with several ranks; 0: one, after
                                 backward */
} MbnLoopConfig;

typedef struct {
    int epoch;             /* 0-based */
    int64_t step_in_epoch; /* 1-based: steps of this epoch done */
    int64_t first_step;    /* step_in_epoch this epoch (re)started from */
    int64_t global_step;
    double loss, lr;
    int64_t images;      /* images in this epoch so far, over every rank */
    double comm_seconds; /* this step's gradient exchanges (waiting for other ranks included) */
    /* The part of them after this process's backward passes were done: not hidden by compute. */
    double comm_exposed_seconds;
} MbnStepReport;

typedef struct {
    int epoch;
    int64_t steps;  /* steps run in this epoch (fewer than steps_per_epoch after a resume) */
    int64_t images; /* over every rank */
    double seconds, data_wait_seconds;
    double comm_seconds;         /* in the gradient exchanges (this process's wait included) */
    double comm_exposed_seconds; /* the part of them not hidden behind backward */
    double loss;                 /* last */
} MbnEpochReport;

/* Every hook is optional (NULL). A hook that fails stops the loop with its error. */
typedef struct {
    void *ctx;
    void (*epoch_begin)(void *ctx, int epoch, int64_t first_step, int64_t steps_per_epoch);
    int (*step_done)(void *ctx, const MbnStepReport *r);
    int (*epoch_done)(void *ctx, const MbnEpochReport *r);
    /* Writes a checkpoint of `net` at `pos` (called on rank 0 only). */
    int (*save)(void *ctx, MbnNet *net, const MbnTrainPosition *pos);
    int (*evaluated)(void *ctx, int epoch, int64_t global_step, const MbnEvalStats *st);
    /* True once a stop was asked for (a signal): the loop finishes the step, saves, returns. */
    bool (*stop_requested)(void *ctx);
} MbnTrainHooks;

typedef struct {
    MbnComm *comm;         /* the ranks; this process drives comm->n_local of them */
    int accumulate;        /* micro-batches per rank and step (1: none) */
    MbnNet *nets;          /* one per local rank, created for training; nets[0] of rank 0 holds
                              the starting weights (the others are overwritten) */
    MbnLoader **loaders;   /* [r * accumulate + m]: shard (comm->rank + r) * accumulate + m of
                              comm->world * accumulate */
    MbnLoader *val_loader; /* rank 0; NULL: no evaluation */
    MbnTrainPosition pos;  /* where to start (rank 0's counts); updated as training goes */
} MbnTrainRun;

typedef struct {
    int epochs;                          /* epochs completed */
    int64_t steps;                       /* global step at the end */
    int64_t steps_run;                   /* steps run by this call */
    double loss;                         /* last loss, NaN when no step ran */
    double val_top1, val_top5, val_loss; /* NaN when not evaluated */
    double seconds;
    double comm_seconds, comm_exposed_seconds; /* as in MbnEpochReport, over the run */
    bool interrupted; /* stopped because stop_requested said so on some rank */
    /* The failure happened on every rank at the same step (a non-finite loss), so no rank
     * needs to stop the others. */
    bool failed_everywhere;
} MbnLoopResult;

int mbn_train_loop(const MbnLoopConfig *cfg, MbnTrainRun *run, const MbnTrainHooks *hooks,
                   MbnLoopResult *res);

#endif
