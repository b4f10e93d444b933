#include "train/run.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/error.h"
#include "io/data/dataset.h"
#include "io/data/loader.h"
#include "io/formats/checkpoint.h"
#include "io/formats/safetensors.h"
#include "io/util/progress.h"
#include "model/net.h"
#include "model/train_loop.h"
#include "model/train_state.h"
#include "train/run_dir.h"
#include "train/signals.h"

#define MAX_RANKS 16

typedef struct {
    const MbnTrainConfig *cfg;
    MbnTrainResult *res;
    MbnDataset *train_ds, *val_ds;
    MbnLoader **loaders; /* n_local * accumulate, as MbnTrainRun.loaders */
    int n_loaders;
    MbnLoader *val_loader;
    MbnNet nets[MAX_RANKS];
    MbnComm *comm;
    int n_local;
    bool rank0;
    bool quiet; /* every rank but 0 is quiet */
    MbnLrSchedule lr;
    int64_t samples_per_step; /* batch size x ranks x micro-batches */
    MbnTrainPosition pos;
    MbnRunLog log;
    MbnProgress prog;
    bool prog_open;
    char prog_label[64];
    double t_epoch;
} Run;

static int open_data(Run *t) {
    const MbnTrainConfig *c = t->cfg;
    MBN_TRY(mbn_dataset_open(c->data_dir, MBN_SPLIT_TRAIN, &t->train_ds));
    if (c->eval && t->rank0) {
        int rc = mbn_dataset_open(c->data_dir, MBN_SPLIT_VAL, &t->val_ds);
        if (rc != MBN_OK) {
            mbn_warn("no evaluation after each epoch: %s", mbn_last_error());
            t->val_ds = NULL;
        }
    }
    /* Shards: one per (rank, micro-batch), as a world * accumulate-rank run has them. */
    int M = c->accumulate, world = t->comm->world * M;
    t->loaders = calloc((size_t)(t->n_local * M), sizeof *t->loaders);
    if (!t->loaders) return mbn_fail(MBN_EFAIL, "out of host memory");
    t->n_loaders = t->n_local * M;
    for (int i = 0; i < t->n_loaders; i++) {
        int shard = t->comm->rank * M + i; /* (comm->rank + r) * M + m with i = r * M + m */
        MbnLoaderConfig lc = {c->batch_size, c->resolution, c->workers, c->seed, true,
                              true,          shard,         world,      0};
        MBN_TRY(mbn_loader_create(t->train_ds, &lc, &t->loaders[i]));
    }
    if (t->val_ds) {
        MbnLoaderConfig lc = {
            c->batch_size, c->resolution, c->workers, c->seed, false, false, 0, 1, 0};
        MBN_TRY(mbn_loader_create(t->val_ds, &lc, &t->val_loader));
    }
    return MBN_OK;
}

/* Every rank's networks; rank 0's first one gets the starting weights (seeded or init_path),
 * which the loop broadcasts. */
static int build_nets(Run *t, const MbnArch *arch) {
    const MbnTrainConfig *c = t->cfg;
    for (int r = 0; r < t->n_local; r++) {
        MBN_TRY(mbn_net_create(&t->nets[r], &c->devices[r], arch, c->batch_size, true));
        if (t->n_local > 1) MBN_TRY(mbn_device_settle(&c->devices[r]));
    }
    if (!t->rank0) return MBN_OK;
    MBN_TRY(mbn_net_init(&t->nets[0], c->seed));
    if (c->init_path) {
        MbnTensorSet set = {0};
        int rc = mbn_safetensors_read(c->init_path, &set);
        const MbnHostTensor *cw = rc ? NULL : mbn_tensors_find(&set, "classifier.weight");
        bool skip = cw && cw->ndim == 2 && cw->shape[0] != arch->num_classes;
        if (skip)
            fprintf(stderr,
                    "mbn: %s has a %lld-class classifier; loading everything else and "
                    "starting a new %d-class classifier (fine-tuning)\n",
                    c->init_path, (long long)cw->shape[0], arch->num_classes);
        if (rc == MBN_OK) rc = mbn_net_import(&t->nets[0], &set, skip, false);
        mbn_tensors_free(&set);
        if (rc) return mbn_fail_context(rc, "init_path %s", c->init_path);
    }
    return MBN_OK;
}

/* Rank 0 reads the checkpoint into its first network; the loop broadcasts it. */
static int resume(Run *t) {
    const MbnTrainConfig *c = t->cfg;
    if (!c->resume || !t->rank0) return MBN_OK;
    char path[1200];
    if (strcmp(c->resume, "auto") == 0) {
        if (mbn_ckpt_find_latest(c->ckpt_dir, path, sizeof path) != MBN_OK) {
            fprintf(stderr, "mbn: no checkpoint in %s yet to resume from; starting fresh\n",
                    c->ckpt_dir);
            return MBN_OK;
        }
    } else {
        snprintf(path, sizeof path, "%s", c->resume);
    }
    MBN_TRY(mbn_train_state_load(path, &t->nets[0], &t->pos));
    const char *tuning = t->nets[0].dev->tuning[0] ? t->nets[0].dev->tuning : "untuned";
    if (t->pos.tuning[0] && strcmp(t->pos.tuning, tuning) != 0)
        mbn_warn("%s was trained under kernel tuning %s, this run uses %s (mbn tune): results "
                 "continue, but not bit-identically",
                 path, t->pos.tuning, tuning);
    if (t->pos.seed != c->seed)
        mbn_warn("%s was trained with seed %llu; continuing with seed %llu changes the data "
                 "order",
                 path, (unsigned long long)t->pos.seed, (unsigned long long)c->seed);
    MbnTrainPosition was = t->pos;
    int64_t repeated = 0;
    if (mbn_train_position_restate(&t->pos, t->lr.steps_per_epoch, t->samples_per_step,
                                   &repeated)) {
        if (was.samples_per_step > 0)
            mbn_warn("%s: %lld steps per epoch of %lld images then, %lld of %lld now (ranks, "
                     "batch size, accumulate or dataset changed): epoch %d step %lld is step "
                     "%lld now%s",
                     path, (long long)was.steps_per_epoch, (long long)was.samples_per_step,
                     (long long)t->lr.steps_per_epoch, (long long)t->samples_per_step,
                     was.epoch + 1, (long long)was.step_in_epoch, (long long)t->pos.step_in_epoch,
                     repeated ? " (rounded down: a few images of the epoch are trained again)"
                              : "");
        else
            mbn_warn("%s: %lld steps per epoch then, %lld now (dataset or batch size changed); "
                     "restarting the interrupted epoch",
                     path, (long long)was.steps_per_epoch, (long long)t->lr.steps_per_epoch);
    }
    fprintf(stderr, "mbn: resuming from %s at epoch %d, step %lld\n", path, t->pos.epoch + 1,
            (long long)t->pos.step_in_epoch);
    return MBN_OK;
}

/* Hooks: the loop's events become progress, console lines, log rows and checkpoint files. */

static void on_epoch_begin(void *ctx, int epoch, int64_t first_step, int64_t steps_per_epoch) {
    Run *t = ctx;
    (void)first_step;
    snprintf(t->prog_label, sizeof t->prog_label, "epoch %d/%d", epoch + 1, t->cfg->epochs);
    mbn_progress_start(&t->prog, t->prog_label, steps_per_epoch, t->quiet);
    t->prog_open = true;
    t->t_epoch = mbn_now();
}

static void progress_close(Run *t) {
    if (t->prog_open) mbn_progress_finish(&t->prog);
    t->prog_open = false;
}

static int on_step_done(void *ctx, const MbnStepReport *r) {
    Run *t = ctx;
    if (!t->rank0) return MBN_OK;
    double ips = (double)r->images / (mbn_now() - t->t_epoch);
    mbn_run_log_step(&t->log, r->epoch, r->global_step, r->loss, r->lr, ips);
    char extra[96];
    snprintf(extra, sizeof extra, "loss %.4f lr %.4g", r->loss, r->lr);
    mbn_progress_update(&t->prog, r->step_in_epoch - r->first_step, r->images, extra);
    return MBN_OK;
}

static int on_epoch_done(void *ctx, const MbnEpochReport *r) {
    Run *t = ctx;
    progress_close(t);
    if (!t->quiet) {
        fprintf(stderr, "epoch: %d step: %lld, loss is %.6f\n", r->epoch + 1,
                (long long)t->lr.steps_per_epoch, r->loss);
        fprintf(stderr,
                "Epoch time: %.3f ms, per step time: %.3f ms, %.1f images/s, waited for "
                "data %.2f s (%.1f%%)",
                r->seconds * 1e3, r->steps ? r->seconds * 1e3 / (double)r->steps : 0.0,
                (double)r->images / r->seconds, r->data_wait_seconds,
                100.0 * r->data_wait_seconds / r->seconds);
        if (t->comm->world > 1)
            fprintf(stderr, ", allreduce %.3f ms per step (%.1f%%)",
                    r->steps ? r->comm_seconds * 1e3 / (double)r->steps : 0.0,
                    100.0 * r->comm_seconds / r->seconds);
        fputc('\n', stderr);
    }
    return MBN_OK;
}

static int on_save(void *ctx, MbnNet *net, const MbnTrainPosition *pos) {
    Run *t = ctx;
    const MbnTrainConfig *c = t->cfg;
    char path[1200];
    mbn_ckpt_path(path, sizeof path, c->ckpt_dir, pos->epoch + 1,
                  mbn_train_position_name_step(pos));
    MBN_TRY(mbn_train_state_save(path, net, pos));
    snprintf(t->res->checkpoint, sizeof t->res->checkpoint, "%s", path);
    if (c->keep_max > 0) MBN_TRY(mbn_ckpt_rotate(c->ckpt_dir, c->keep_max));
    return MBN_OK;
}

static int on_evaluated(void *ctx, int epoch, int64_t global_step, const MbnEvalStats *st) {
    Run *t = ctx;
    double top1 = (double)st->top1 / (double)st->images;
    double top5 = (double)st->top5 / (double)st->images;
    double loss = st->loss_sum / (double)st->images;
    if (!t->quiet)
        fprintf(stderr,
                "epoch: %d val top-1 %.2f%% top-5 %.2f%% loss %.4f (%lld image%s, %.1f s)\n",
                epoch + 1, 100 * top1, 100 * top5, loss, (long long)st->images,
                st->images == 1 ? "" : "s", st->seconds);
    mbn_run_log_eval(&t->log, epoch, global_step, loss, top1, top5);
    return MBN_OK;
}

static bool on_stop_requested(void *ctx) {
    (void)ctx;
    return mbn_stop_signal() != 0;
}

static int train_loop(Run *t) {
    const MbnTrainConfig *c = t->cfg;
    MbnLoopConfig lc = {c->epochs,           t->lr,        c->momentum,
                        c->weight_decay,     c->smoothing, c->decay_all,
                        c->save_every_steps, c->max_steps, c->quiet};
    MbnTrainRun run = {t->comm, t->cfg->accumulate, t->nets, t->loaders, t->val_loader, t->pos};
    MbnTrainHooks hooks = {t,       on_epoch_begin, on_step_done,     on_epoch_done,
                           on_save, on_evaluated,   on_stop_requested};
    MbnLoopResult lr;
    int rc = mbn_train_loop(&lc, &run, &hooks, &lr);
    progress_close(t);
    t->pos = run.pos;
    MbnTrainResult *res = t->res;
    res->epochs = lr.epochs;
    res->steps = lr.steps;
    res->loss = lr.loss;
    res->val_top1 = lr.val_top1;
    res->val_top5 = lr.val_top5;
    res->val_loss = lr.val_loss;
    res->seconds = lr.seconds;
    res->comm_seconds = lr.comm_seconds;
    res->interrupted = lr.interrupted;
    res->failed_everywhere = lr.failed_everywhere;
    if (rc == MBN_OK && lr.interrupted && t->rank0) {
        int sig = mbn_stop_signal();
        fprintf(stderr,
                "mbn: interrupted (%s) after step %lld; saved %s (resume with --resume auto)\n",
                sig == SIGTERM  ? "SIGTERM"
                : sig == SIGINT ? "SIGINT"
                                : "a signal to another rank",
                (long long)lr.steps, res->checkpoint);
    }
    if (rc != MBN_OK && strstr(mbn_last_error(), "the loss is")) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", mbn_last_error());
        mbn_fail(rc, "%s. The last good checkpoint is %s", msg,
                 res->checkpoint[0] ? res->checkpoint : "(none yet)");
    }
    return rc;
}

/* Unusable images over every rank's shards (each rank only sees its own). */
static int count_skipped(Run *t) {
    int64_t mine = 0;
    for (int i = 0; i < t->n_loaders; i++)
        mine += mbn_loader_skipped(t->loaders[i]);
    if (t->comm->world == t->n_local) {
        t->res->skipped = mine;
        return MBN_OK;
    }
    /* The mean is exact enough: counts far below 2^24, rounded back after * world. */
    float v = (float)mine, *bufs[1] = {&v};
    MBN_TRY(t->comm->allreduce_mean(t->comm, bufs, 1));
    t->res->skipped = llround((double)v * t->comm->world);
    return MBN_OK;
}

static void cleanup(Run *t) {
    for (int i = 0; i < t->n_loaders; i++)
        if (t->loaders[i]) mbn_loader_destroy(t->loaders[i]);
    free(t->loaders);
    for (int r = 0; r < t->n_local; r++)
        mbn_net_destroy(&t->nets[r]);
    if (t->val_loader) mbn_loader_destroy(t->val_loader);
    if (t->train_ds) mbn_dataset_free(t->train_ds);
    if (t->val_ds) mbn_dataset_free(t->val_ds);
    mbn_run_log_close(&t->log);
}

int mbn_train(const MbnTrainConfig *cfg, MbnComm *comm, MbnTrainResult *res) {
    memset(res, 0, sizeof *res);
    res->val_top1 = res->val_top5 = res->val_loss = NAN;
    res->loss = NAN;
    if (cfg->n_devices < 1 || cfg->n_devices > MAX_RANKS)
        return mbn_fail(MBN_EUSAGE, "n_devices %d: between 1 and %d devices can train together",
                        cfg->n_devices, MAX_RANKS);
    if (cfg->accumulate < 1)
        return mbn_fail(MBN_EUSAGE, "accumulate %d: must be at least 1", cfg->accumulate);
    if (cfg->n_devices != comm->n_local)
        return mbn_fail(MBN_EFAIL, "n_devices %d: this process drives %d ranks", cfg->n_devices,
                        comm->n_local);
    Run t;
    memset(&t, 0, sizeof t);
    t.cfg = cfg;
    t.res = res;
    t.comm = comm;
    t.n_local = comm->n_local;
    t.rank0 = comm->rank == 0;
    t.quiet = cfg->quiet || !t.rank0;
    t.lr = cfg->lr;
    t.pos.seed = cfg->seed;
    /* From the start: a signal during the setup (scanning an ImageNet folder takes a while)
     * still ends the run through a checkpoint after the first step. */
    mbn_stop_signals_install();
    int rc = t.rank0 ? mbn_run_dir_create(cfg->ckpt_dir) : MBN_OK;
    if (rc == MBN_OK) rc = open_data(&t);
    MbnArch arch;
    if (rc == MBN_OK) {
        int k = cfg->num_classes ? cfg->num_classes : t.train_ds->num_classes;
        if (cfg->num_classes && cfg->num_classes != t.train_ds->num_classes)
            rc = mbn_fail(MBN_EUSAGE, "num_classes %d: the dataset %s has %d classes",
                          cfg->num_classes, cfg->data_dir, t.train_ds->num_classes);
        else
            rc = mbn_arch_build(&arch, cfg->alpha, cfg->resolution, k);
        /* The eval pipeline of this data travels with the model (checkpoints, exports). */
        if (rc == MBN_OK) mbn_preprocess_for_dataset(t.train_ds, &arch.preprocess);
    }
    if (rc == MBN_OK) {
        t.lr.steps_per_epoch = mbn_loader_batches_per_epoch(t.loaders[0]);
        if (t.lr.steps_per_epoch < 1)
            rc = mbn_fail(MBN_EFAIL,
                          "%s: %lld training images are fewer than one batch of %d "
                          "per device",
                          cfg->data_dir, (long long)t.train_ds->count, cfg->batch_size);
        else if (t.lr.kind == MBN_LR_COSINE && t.lr.decay_epochs <= 0)
            t.lr.decay_epochs =
                cfg->epochs - t.lr.warmup_epochs > 0 ? cfg->epochs - t.lr.warmup_epochs : 1;
        t.pos.steps_per_epoch = t.lr.steps_per_epoch;
        t.samples_per_step = (int64_t)cfg->batch_size * comm->world * cfg->accumulate;
        t.pos.samples_per_step = t.pos.name_step_samples = t.samples_per_step;
    }
    if (rc == MBN_OK) rc = build_nets(&t, &arch);
    if (rc == MBN_OK) rc = resume(&t);
    if (rc == MBN_OK && t.rank0)
        rc = mbn_run_dir_write_labels(cfg->ckpt_dir, t.train_ds->class_names,
                                      t.train_ds->num_classes);
    if (rc == MBN_OK && t.rank0)
        rc = mbn_run_log_open(&t.log, cfg->ckpt_dir, t.pos.global_step == 0);
    if (rc == MBN_OK && !t.quiet) {
        char per_rank[96];
        if (cfg->accumulate > 1)
            snprintf(per_rank, sizeof per_rank, "%d micro-batches of %d", cfg->accumulate,
                     cfg->batch_size);
        else
            snprintf(per_rank, sizeof per_rank, "%d", cfg->batch_size);
        char label[32];
        mbn_arch_label(&arch, label, sizeof label);
        long long images = t.train_ds->count, steps = t.lr.steps_per_epoch;
        fprintf(stderr,
                "mbn: training MobileNet V1 %s (%d classes) on %d %s rank%s: %lld image%s, %lld "
                "step%s per epoch of %s per rank, %d epoch%s\n",
                label, arch.num_classes, comm->world, comm->name, comm->world > 1 ? "s" : "",
                images, images == 1 ? "" : "s", steps, steps == 1 ? "" : "s", per_rank, cfg->epochs,
                cfg->epochs == 1 ? "" : "s");
    }
    if (rc == MBN_OK) rc = train_loop(&t);
    if (rc == MBN_OK) rc = count_skipped(&t); /* every rank gets here: a collective is safe */
    mbn_stop_signals_restore();
    cleanup(&t);
    return rc;
}
