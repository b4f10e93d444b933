/* The parallel data loader: worker threads decode and augment samples into batches ahead of
 * the device, through a bounded prefetch queue.
 *
 * Determinism: the sample order of an epoch is a permutation drawn from (seed, epoch); the
 * augmentation of a sample depends only on (seed, epoch, sample index). So for a given seed the
 * batches are identical whatever the worker count. With world > 1 each rank takes its own
 * shard of the epoch's permutation (rank, rank + world, ...), every rank the same number of
 * batches.
 *
 * Images come out as float32 NHWC (io/data/augment.h has the exact pre-processing), resolution x
 * resolution x 3, normalised with ImageNet mean/std. Train: random resized crop (scale 0.08-1,
 * ratio 3/4-4/3) + horizontal flip for photos; IDX/CIFAR images are padded/resized to the
 * resolution without cropping (28x28 is zero-padded to 32x32), grayscale replicated to 3 channels.
 * Eval: resize the short side to resolution/0.875 and center crop; IDX/CIFAR as in train without
 * randomness.
 *
 * An unreadable or corrupt image is skipped with a warning naming it and counted once per file
 * (mbn_loader_skipped). With drop_last (training) its place in the batch is taken by the next
 * usable sample after the batch's range in this rank's epoch order (wrapping around), so batches
 * stay full and identical for any worker count; without drop_last (evaluation) the batch shrinks
 * instead, so no image is counted twice in the metrics. When no sample is usable,
 * mbn_loader_next fails with a message naming the dataset.
 *
 * Sharding: each rank gets floor(count / world) samples of the epoch's permutation (the remainder
 * is dropped, as torch's DistributedSampler(drop_last=True)); evaluation uses world 1.
 *
 * Threads: workers build whole batches; `workers` is capped at the online core count. Each queued
 * batch is a full buffer (64 x 224 x 224 x 3 floats = 38.5 MB), hence the modest default
 * prefetch. */
#ifndef MBN_IO_DATA_LOADER_H
#define MBN_IO_DATA_LOADER_H
#include <stdbool.h>
#include <stdint.h>

#include "io/data/dataset.h"
#include "io/data/preprocess.h"

typedef struct {
    int batch_size;
    int resolution;
    int workers; /* decoding threads; capped at the core count; 0 means the default of 8 */
    uint64_t seed;
    bool train;      /* shuffle each epoch and augment */
    bool drop_last;  /* drop the final partial batch (training) */
    int rank, world; /* data-parallel shard; world 1 for single-device runs */
    int prefetch;    /* batches queued ahead; 0 means workers + 1 */
} MbnLoaderConfig;

typedef struct {
    int n;            /* images in this batch (<= batch_size); 0 at the end of the epoch */
    float *images;    /* n x resolution x resolution x 3, owned by the loader until the next call */
    int32_t *labels;  /* n */
    int64_t *indices; /* dataset index of each image, for tests and diagnostics */
} MbnBatch;

typedef struct MbnLoader MbnLoader;

int mbn_loader_create(const MbnDataset *ds, const MbnLoaderConfig *cfg, MbnLoader **out);
/* Evaluation loaders: apply the model's preprocessing record (io/data/preprocess.h) to every
 * kind of data alike; *p must outlive the loader. Without it (NULL, the default) each kind gets
 * its defaults (IDX/CIFAR padded to 32 and resized, photos the ImageNet eval pipeline), as for
 * models without a record. Call before mbn_loader_start_epoch; ignored in training mode. */
void mbn_loader_set_preprocess(MbnLoader *ld, const MbnPreprocess *p);
/* Starts (or restarts) an epoch: a new shuffle from (seed, epoch). `skip_batches` batches are
 * skipped without decoding, for exact resume mid-epoch. */
int mbn_loader_start_epoch(MbnLoader *ld, int epoch, int64_t skip_batches);
/* Fills *batch with the next batch; batch->n == 0 when the epoch is over. */
int mbn_loader_next(MbnLoader *ld, MbnBatch *batch);
int64_t mbn_loader_batches_per_epoch(const MbnLoader *ld);
int64_t mbn_loader_skipped(const MbnLoader *ld);
/* Seconds the caller spent blocked in mbn_loader_next since the epoch started. */
double mbn_loader_wait_seconds(const MbnLoader *ld);
void mbn_loader_destroy(MbnLoader *ld);

#endif
