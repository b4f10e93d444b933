/* The parallel loader. One job = one whole batch, built by one worker into its own slot of a ring
 * of prefetch + 1 slots (batch b lives in slot b % nslots; the extra slot is the one the caller
 * holds until its next call). Every batch is a pure function of (seed, epoch, batch index) and of
 * which files are unreadable, so the worker count and the scheduling never change the result.
 *
 * Unreadable samples: with drop_last (training) a bad sample's place is taken by the next usable
 * sample after the batch's own range in this rank's epoch order (wrapping around), so every batch
 * stays full; the substitute may therefore be seen twice in that epoch. Without drop_last
 * (evaluation) the batch just shrinks: substituting would count an image twice in the metrics. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/error.h"
#include "io/data/loader.h"
#include "base/rng.h"

#define DEFAULT_WORKERS 8

enum { SLOT_EMPTY, SLOT_BUSY, SLOT_READY };

typedef struct {
    int state;
    int64_t batch;
    int n, status;
    char err[512];
    float *images;
    int32_t *labels;
    int64_t *indices;
} Slot;

struct MbnLoader {
    const MbnDataset *ds;
    MbnLoaderConfig cfg;
    size_t image_floats;
    int64_t *order;   /* this rank's sample order for the epoch */
    int64_t per_rank; /* entries of order */
    int64_t nbatches;
    int epoch;
    Slot *slots;
    int nslots;
    pthread_t *threads;
    int nthreads;
    pthread_mutex_t mu;
    pthread_cond_t work_cv, ready_cv;
    int64_t next_job, next_out;
    int held; /* slot the caller holds, -1 if none */
    int busy; /* jobs in progress */
    bool active, stop;
    atomic_uchar *bad; /* per dataset sample: 1 once found unreadable (warned and counted once) */
    atomic_llong skipped;
    double wait_s;
    const MbnPreprocess *preprocess; /* eval: the model's record, or NULL */
};

/* Decodes and augments one sample; false (after a one-time warning) when it is unusable. */
static bool load_sample(MbnLoader *ld, int64_t idx, float *out) {
    const MbnDataset *ds = ld->ds;
    if (atomic_load(&ld->bad[idx])) return false;
    int rc;
    const MbnPreprocess *pre = ld->cfg.train ? NULL : ld->preprocess;
    if (pre) {
        /* Evaluation with the model's record: the same pipeline whatever the format. */
        rc = mbn_dataset_sample_recorded(ds, idx, pre, ld->cfg.resolution, out);
    } else {
        /* The augmentation stream depends on (seed, epoch, sample) only: thread-count
         * independent. */
        MbnRng rng;
        mbn_rng_seed(&rng, mbn_rng_key(ld->cfg.seed, (uint64_t)ld->epoch, (uint64_t)idx));
        rc = mbn_dataset_sample(ds, idx, ld->cfg.resolution, ld->cfg.train, &rng, out);
    }
    if (rc == MBN_OK) return true;
    if (atomic_exchange(&ld->bad[idx], 1) == 0) {
        atomic_fetch_add(&ld->skipped, 1);
        mbn_warn("skipping %s", mbn_last_error());
    }
    return false;
}

/* Builds batch b into slot s; returns MBN_EFAIL when no sample of the rank's epoch is usable. */
static int build_batch(MbnLoader *ld, int64_t b, Slot *s) {
    const int bs = ld->cfg.batch_size;
    int64_t begin = b * bs, end = begin + bs;
    if (end > ld->per_rank) end = ld->per_rank;
    const int want = (int)(end - begin);
    /* Fill mode scans past the batch's own range, at most once around the whole order. */
    const int64_t limit = ld->cfg.drop_last ? ld->per_rank : want;
    int n = 0;
    for (int64_t t = 0; t < limit && n < want; t++) {
        int64_t idx = ld->order[(begin + t) % ld->per_rank];
        if (!load_sample(ld, idx, s->images + (size_t)n * ld->image_floats)) continue;
        s->labels[n] = ld->ds->labels[idx];
        s->indices[n] = idx;
        n++;
    }
    s->n = n;
    if (n == 0 && ld->cfg.drop_last)
        return mbn_fail(MBN_EFAIL, "%s: no usable image in the data (all %lld samples skipped)",
                        ld->ds->root, (long long)ld->per_rank);
    return MBN_OK;
}

static bool job_available(const MbnLoader *ld) {
    return ld->active && ld->next_job < ld->nbatches &&
           ld->slots[ld->next_job % ld->nslots].state == SLOT_EMPTY;
}

static void *worker_main(void *arg) {
    MbnLoader *ld = arg;
    pthread_mutex_lock(&ld->mu);
    for (;;) {
        while (!ld->stop && !job_available(ld))
            pthread_cond_wait(&ld->work_cv, &ld->mu);
        if (ld->stop) break;
        int64_t b = ld->next_job++;
        Slot *s = &ld->slots[b % ld->nslots];
        s->state = SLOT_BUSY;
        s->batch = b;
        ld->busy++;
        pthread_mutex_unlock(&ld->mu);
        int rc = build_batch(ld, b, s);
        if (rc != MBN_OK) snprintf(s->err, sizeof s->err, "%s", mbn_last_error());
        pthread_mutex_lock(&ld->mu);
        s->status = rc;
        s->state = SLOT_READY;
        ld->busy--;
        pthread_cond_broadcast(&ld->ready_cv);
    }
    pthread_mutex_unlock(&ld->mu);
    return NULL;
}

static int check_config(const MbnDataset *ds, const MbnLoaderConfig *c) {
    if (!ds || ds->count <= 0) return mbn_fail(MBN_EFAIL, "loader: empty dataset");
    if (c->batch_size < 1)
        return mbn_fail(MBN_EUSAGE, "batch_size %d: must be at least 1", c->batch_size);
    if (c->resolution < 1 || c->resolution > 4096)
        return mbn_fail(MBN_EUSAGE, "resolution %d: out of range", c->resolution);
    if (c->workers < 0) return mbn_fail(MBN_EUSAGE, "workers %d: must be 0 or more", c->workers);
    if (c->world < 1 || c->rank < 0 || c->rank >= c->world)
        return mbn_fail(MBN_EUSAGE, "rank %d of world %d is invalid", c->rank, c->world);
    if (ds->count < c->world)
        return mbn_fail(MBN_EFAIL, "%s: %lld samples cannot be shared by %d ranks", ds->root,
                        (long long)ds->count, c->world);
    return MBN_OK;
}

static int alloc_slots(MbnLoader *ld) {
    size_t bs = (size_t)ld->cfg.batch_size;
    ld->slots = calloc((size_t)ld->nslots, sizeof *ld->slots);
    if (!ld->slots) return MBN_EFAIL;
    for (int i = 0; i < ld->nslots; i++) {
        Slot *s = &ld->slots[i];
        s->images = malloc(sizeof(float) * ld->image_floats * bs);
        s->labels = malloc(sizeof(int32_t) * bs);
        s->indices = malloc(sizeof(int64_t) * bs);
        if (!s->images || !s->labels || !s->indices) return MBN_EFAIL;
    }
    return MBN_OK;
}

static int start_threads(MbnLoader *ld) {
    ld->threads = calloc((size_t)ld->nthreads, sizeof *ld->threads);
    if (!ld->threads) return mbn_fail(MBN_EFAIL, "out of host memory");
    for (int i = 0; i < ld->nthreads; i++) {
        if (pthread_create(&ld->threads[i], NULL, worker_main, ld) != 0) {
            ld->nthreads = i;
            return mbn_fail(MBN_EFAIL, "cannot start loader thread %d", i);
        }
    }
    return MBN_OK;
}

int mbn_loader_create(const MbnDataset *ds, const MbnLoaderConfig *cfg, MbnLoader **out) {
    *out = NULL;
    MBN_TRY(check_config(ds, cfg));
    MbnLoader *ld = calloc(1, sizeof *ld);
    if (!ld) return mbn_fail(MBN_EFAIL, "out of host memory");
    ld->ds = ds;
    ld->cfg = *cfg;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int workers = cfg->workers ? cfg->workers : DEFAULT_WORKERS;
    if (cores > 0 && workers > cores) workers = (int)cores;
    ld->cfg.workers = ld->nthreads = workers;
    /* Enough slots to keep every worker busy; each slot is a whole batch (38 MB at 64 x 224^2). */
    int prefetch = cfg->prefetch > 0 ? cfg->prefetch : workers + 1;
    ld->nslots = prefetch + 1;
    ld->image_floats = (size_t)cfg->resolution * cfg->resolution * 3;
    ld->per_rank = ds->count / cfg->world; /* the remainder is dropped, as DistributedSampler */
    ld->nbatches = cfg->drop_last ? ld->per_rank / cfg->batch_size
                                  : (ld->per_rank + cfg->batch_size - 1) / cfg->batch_size;
    ld->held = -1;
    ld->order = malloc(sizeof(int64_t) * (size_t)ds->count);
    ld->bad = calloc((size_t)ds->count, sizeof *ld->bad);
    pthread_mutex_init(&ld->mu, NULL);
    pthread_cond_init(&ld->work_cv, NULL);
    pthread_cond_init(&ld->ready_cv, NULL);
    if (!ld->order || !ld->bad || alloc_slots(ld) != MBN_OK) {
        mbn_loader_destroy(ld);
        return mbn_fail(MBN_EFAIL, "out of host memory for %d prefetch batches", prefetch);
    }
    if (ld->nbatches == 0) {
        mbn_loader_destroy(ld);
        return mbn_fail(MBN_EFAIL, "%s: %lld samples per rank make no full batch of %d", ds->root,
                        (long long)ld->per_rank, cfg->batch_size);
    }
    int rc = start_threads(ld);
    if (rc != MBN_OK) {
        mbn_loader_destroy(ld);
        return rc;
    }
    *out = ld;
    return MBN_OK;
}

/* The epoch's order: a permutation from (seed, epoch) for training, dataset order otherwise;
 * this rank keeps positions rank, rank + world, ... */
static void make_order(MbnLoader *ld) {
    int64_t count = ld->ds->count;
    for (int64_t i = 0; i < count; i++)
        ld->order[i] = i;
    if (ld->cfg.train) {
        MbnRng rng;
        mbn_rng_seed(&rng, mbn_rng_key(ld->cfg.seed, (uint64_t)ld->epoch, 0x5eedULL));
        mbn_rng_shuffle(&rng, ld->order, count);
    }
    for (int64_t i = 0; i < ld->per_rank; i++)
        ld->order[i] = ld->order[i * ld->cfg.world + ld->cfg.rank];
}

void mbn_loader_set_preprocess(MbnLoader *ld, const MbnPreprocess *p) {
    pthread_mutex_lock(&ld->mu); /* workers read it only while an epoch is active */
    ld->preprocess = p;
    pthread_mutex_unlock(&ld->mu);
}

int mbn_loader_start_epoch(MbnLoader *ld, int epoch, int64_t skip_batches) {
    if (skip_batches < 0)
        return mbn_fail(MBN_EUSAGE, "cannot skip %lld batches", (long long)skip_batches);
    pthread_mutex_lock(&ld->mu);
    /* Stop handing out jobs and let in-flight ones finish before the order changes under them. */
    ld->active = false;
    while (ld->busy > 0)
        pthread_cond_wait(&ld->ready_cv, &ld->mu);
    for (int i = 0; i < ld->nslots; i++)
        ld->slots[i].state = SLOT_EMPTY;
    ld->held = -1;
    ld->epoch = epoch;
    make_order(ld);
    if (skip_batches > ld->nbatches) skip_batches = ld->nbatches;
    ld->next_job = ld->next_out = skip_batches;
    ld->wait_s = 0;
    ld->active = true;
    pthread_cond_broadcast(&ld->work_cv);
    pthread_mutex_unlock(&ld->mu);
    return MBN_OK;
}

/* Waits for the next batch in order (mutex held); returns its slot. */
static Slot *wait_next(MbnLoader *ld) {
    Slot *s = &ld->slots[ld->next_out % ld->nslots];
    double t0 = mbn_now();
    while (!(s->state == SLOT_READY && s->batch == ld->next_out))
        pthread_cond_wait(&ld->ready_cv, &ld->mu);
    ld->wait_s += mbn_now() - t0;
    return s;
}

static void release_held(MbnLoader *ld) {
    if (ld->held < 0) return;
    ld->slots[ld->held].state = SLOT_EMPTY;
    ld->held = -1;
    pthread_cond_broadcast(&ld->work_cv);
}

int mbn_loader_next(MbnLoader *ld, MbnBatch *batch) {
    memset(batch, 0, sizeof *batch);
    pthread_mutex_lock(&ld->mu);
    release_held(ld);
    int rc = MBN_OK;
    if (!ld->active) rc = mbn_fail(MBN_EFAIL, "loader: mbn_loader_start_epoch not called");
    while (rc == MBN_OK && ld->next_out < ld->nbatches) {
        Slot *s = wait_next(ld);
        ld->held = (int)(s - ld->slots);
        ld->next_out++;
        if (s->status != MBN_OK) {
            rc = mbn_fail(s->status, "%s", s->err);
            break;
        }
        if (s->n == 0) { /* every sample of an eval batch was unreadable: on to the next */
            release_held(ld);
            continue;
        }
        batch->n = s->n;
        batch->images = s->images;
        batch->labels = s->labels;
        batch->indices = s->indices;
        break;
    }
    pthread_mutex_unlock(&ld->mu);
    return rc;
}

int64_t mbn_loader_batches_per_epoch(const MbnLoader *ld) {
    return ld->nbatches;
}

int64_t mbn_loader_skipped(const MbnLoader *ld) {
    return atomic_load(&((MbnLoader *)ld)->skipped);
}

double mbn_loader_wait_seconds(const MbnLoader *ld) {
    MbnLoader *m = (MbnLoader *)ld; /* the lock is logically const */
    pthread_mutex_lock(&m->mu);
    double w = m->wait_s;
    pthread_mutex_unlock(&m->mu);
    return w;
}

void mbn_loader_destroy(MbnLoader *ld) {
    if (!ld) return;
    pthread_mutex_lock(&ld->mu);
    ld->stop = true;
    pthread_cond_broadcast(&ld->work_cv);
    pthread_mutex_unlock(&ld->mu);
    for (int i = 0; i < ld->nthreads && ld->threads; i++)
        pthread_join(ld->threads[i], NULL);
    free(ld->threads);
    for (int i = 0; ld->slots && i < ld->nslots; i++) {
        free(ld->slots[i].images);
        free(ld->slots[i].labels);
        free(ld->slots[i].indices);
    }
    free(ld->slots);
    free(ld->order);
    free((void *)ld->bad);
    pthread_mutex_destroy(&ld->mu);
    pthread_cond_destroy(&ld->work_cv);
    pthread_cond_destroy(&ld->ready_cv);
    free(ld);
}
