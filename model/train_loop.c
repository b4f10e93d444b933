#include "model/train_loop.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/error.h"
#include "io/formats/checkpoint.h"
#include "io/data/dataset.h"
#include "io/formats/labels.h"
#include "io/data/loader.h"
#include "io/util/progress.h"
#include "io/formats/safetensors.h"
#include "model/evaluate.h"
#include "model/net.h"
#include "model/train_state.h"

#define MAX_RANKS 16

static volatile sig_atomic_t interrupted;
static void on_sigint(int sig) {
    (void)sig;
    interrupted = 1;
}

typedef struct {
    const MbnTrainConfig *cfg;
    MbnTrainResult *res;
    MbnDataset *train_ds, *val_ds;
    MbnLoader *loaders[MAX_RANKS];
    MbnLoader *val_loader;
    MbnNet nets[MAX_RANKS];
    int world;
    MbnLrSchedule lr;
    MbnTrainPosition pos;
    float *host_grads, *host_sum; /* data-parallel averaging */
    FILE *log;
    char log_path[1200];
} Trainer;

/* mkdir -p: the folder and any missing parents (e.g. --ckpt-dir runs/fmnist). */
static int make_dir(const char *dir) {
    char path[1024];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path)
        return mbn_fail(MBN_EUSAGE, "--ckpt-dir %s: path too long", dir);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(path, 0755) != 0 && errno != EEXIST) break; /* reported below */
        *p = '/';
    }
    if (mkdir(dir, 0755) == 0 || errno == EEXIST) {
        struct stat st;
        if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode)) return MBN_OK;
    }
    return mbn_fail(MBN_EFAIL, "--ckpt-dir %s: cannot create the folder (%s)", dir,
                    strerror(errno));
}

/* Averages the gradients of all ranks in rank order on the host and writes the mean back to
 * every rank: the same bits on every rank, whatever the devices' timing. */
static int allreduce_mean(Trainer *t) {
    if (t->world == 1) return MBN_OK;
    size_t n = t->nets[0].param_floats;
    MBN_TRY(mbn_net_read_buffer(&t->nets[0], t->nets[0].grads, t->host_sum));
    for (int r = 1; r < t->world; r++) {
        MBN_TRY(mbn_net_read_buffer(&t->nets[r], t->nets[r].grads, t->host_grads));
        for (size_t i = 0; i < n; i++)
            t->host_sum[i] += t->host_grads[i];
    }
    float inv = 1.0f / (float)t->world;
    for (size_t i = 0; i < n; i++)
        t->host_sum[i] *= inv;
    for (int r = 0; r < t->world; r++)
        MBN_TRY(mbn_net_write_buffer(&t->nets[r], t->nets[r].grads, t->host_sum));
    return MBN_OK;
}

static int save(Trainer *t, int epoch_label, int64_t step_label) {
    char path[1200];
    mbn_ckpt_path(path, sizeof path, t->cfg->ckpt_dir, epoch_label, step_label);
    MBN_TRY(mbn_train_state_save(path, &t->nets[0], &t->pos));
    snprintf(t->res->checkpoint, sizeof t->res->checkpoint, "%s", path);
    if (t->cfg->keep_max > 0) MBN_TRY(mbn_ckpt_rotate(t->cfg->ckpt_dir, t->cfg->keep_max));
    return MBN_OK;
}

static int open_data(Trainer *t) {
    const MbnTrainConfig *c = t->cfg;
    MBN_TRY(mbn_dataset_open(c->data_dir, MBN_SPLIT_TRAIN, &t->train_ds));
    if (c->eval) {
        int rc = mbn_dataset_open(c->data_dir, MBN_SPLIT_VAL, &t->val_ds);
        if (rc != MBN_OK) {
            mbn_warn("no evaluation after each epoch: %s", mbn_last_error());
            t->val_ds = NULL;
        }
    }
    for (int r = 0; r < t->world; r++) {
        MbnLoaderConfig lc = {
            c->batch_size, c->resolution, c->workers, c->seed, true, true, r, t->world, 0};
        MBN_TRY(mbn_loader_create(t->train_ds, &lc, &t->loaders[r]));
    }
    if (t->val_ds) {
        MbnLoaderConfig lc = {
            c->batch_size, c->resolution, c->workers, c->seed, false, false, 0, 1, 0};
        MBN_TRY(mbn_loader_create(t->val_ds, &lc, &t->val_loader));
    }
    return MBN_OK;
}

static int build_nets(Trainer *t, const MbnArch *arch) {
    const MbnTrainConfig *c = t->cfg;
    for (int r = 0; r < t->world; r++) {
        MBN_TRY(mbn_net_create(&t->nets[r], &c->devices[r], arch, c->batch_size, true));
        MBN_TRY(mbn_net_init(&t->nets[r], c->seed));
    }
    if (c->init) {
        MbnTensorSet set = {0};
        int rc = mbn_safetensors_read(c->init, &set);
        const MbnHostTensor *cw = rc ? NULL : mbn_tensors_find(&set, "classifier.weight");
        bool skip = cw && cw->ndim == 2 && cw->shape[0] != arch->num_classes;
        if (skip)
            fprintf(stderr,
                    "mbn: %s has a %lld-class classifier; loading everything else and "
                    "starting a new %d-class classifier (fine-tuning)\n",
                    c->init, (long long)cw->shape[0], arch->num_classes);
        for (int r = 0; rc == MBN_OK && r < t->world; r++)
            rc = mbn_net_import(&t->nets[r], &set, skip, false);
        mbn_tensors_free(&set);
        if (rc) return mbn_fail_context(rc, "--init %s", c->init);
    }
    if (t->world > 1) {
        t->host_grads = malloc(t->nets[0].param_floats * sizeof(float));
        t->host_sum = malloc(t->nets[0].param_floats * sizeof(float));
        if (!t->host_grads || !t->host_sum) return mbn_fail(MBN_EFAIL, "out of host memory");
    }
    return MBN_OK;
}

static int resume(Trainer *t) {
    const MbnTrainConfig *c = t->cfg;
    if (!c->resume) return MBN_OK;
    char path[1200];
    if (strcmp(c->resume, "auto") == 0) {
        if (mbn_ckpt_find_latest(c->ckpt_dir, path, sizeof path) != MBN_OK) {
            fprintf(stderr, "mbn: --resume auto: no checkpoint in %s yet; starting fresh\n",
                    c->ckpt_dir);
            return MBN_OK;
        }
    } else {
        snprintf(path, sizeof path, "%s", c->resume);
    }
    for (int r = 0; r < t->world; r++)
        MBN_TRY(mbn_train_state_load(path, &t->nets[r], &t->pos));
    if (t->pos.seed != c->seed)
        mbn_warn("%s was trained with --seed %llu; continuing with --seed %llu changes the data "
                 "order",
                 path, (unsigned long long)t->pos.seed, (unsigned long long)c->seed);
    if (t->pos.steps_per_epoch != t->lr.steps_per_epoch) {
        mbn_warn("%s: %lld steps per epoch then, %lld now (dataset or batch size changed); "
                 "restarting the interrupted epoch",
                 path, (long long)t->pos.steps_per_epoch, (long long)t->lr.steps_per_epoch);
        t->pos.step_in_epoch = 0;
    }
    if (t->pos.step_in_epoch >= t->lr.steps_per_epoch) {
        t->pos.epoch++;
        t->pos.step_in_epoch = 0;
    }
    fprintf(stderr, "mbn: resuming from %s at epoch %d, step %lld\n", path, t->pos.epoch + 1,
            (long long)t->pos.step_in_epoch);
    return MBN_OK;
}

static int open_log(Trainer *t) {
    snprintf(t->log_path, sizeof t->log_path, "%s/train_log.csv", t->cfg->ckpt_dir);
    bool fresh = t->pos.global_step == 0;
    t->log = fopen(t->log_path, fresh ? "w" : "a");
    if (!t->log)
        return mbn_fail(MBN_EFAIL, "%s: cannot write the training log (%s)", t->log_path,
                        strerror(errno));
    if (fresh) fprintf(t->log, "kind,epoch,step,loss,lr,images_per_s,top1,top5\n");
    return MBN_OK;
}

/* One optimizer step on every rank; returns the mean loss over ranks. */
static int train_step(Trainer *t, double lr, int *images, double *loss) {
    const MbnTrainConfig *c = t->cfg;
    *images = 0;
    for (int r = 0; r < t->world; r++) {
        MbnBatch b;
        MBN_TRY(mbn_loader_next(t->loaders[r], &b));
        if (b.n == 0) return mbn_fail(MBN_EFAIL, "rank %d ran out of data mid-epoch", r);
        MBN_TRY(mbn_net_set_input(&t->nets[r], b.images, b.n));
        MBN_TRY(mbn_net_forward(&t->nets[r], b.n, true));
        MBN_TRY(mbn_net_backward(&t->nets[r], b.labels, b.n, c->smoothing));
        *images += b.n;
    }
    MBN_TRY(allreduce_mean(t));
    MbnSgdConfig sgd = {(float)lr, c->momentum, c->weight_decay, c->decay_all};
    double sum = 0;
    for (int r = 0; r < t->world; r++) {
        MBN_TRY(mbn_net_sgd_step(&t->nets[r], &sgd));
        float l;
        MBN_TRY(mbn_net_read_loss(&t->nets[r], &l));
        sum += l;
    }
    *loss = sum / t->world;
    return MBN_OK;
}

static int evaluate_epoch(Trainer *t, int epoch) {
    MbnEvalStats st;
    MBN_TRY(mbn_evaluate(&t->nets[0], t->val_loader, t->cfg->quiet, &st));
    MbnTrainResult *res = t->res;
    res->val_top1 = (double)st.top1 / (double)st.images;
    res->val_top5 = (double)st.top5 / (double)st.images;
    res->val_loss = st.loss_sum / (double)st.images;
    if (!t->cfg->quiet)
        fprintf(stderr, "epoch: %d val top-1 %.2f%% top-5 %.2f%% loss %.4f (%lld images, %.1f s)\n",
                epoch + 1, 100 * res->val_top1, 100 * res->val_top5, res->val_loss,
                (long long)st.images, st.seconds);
    fprintf(t->log, "eval,%d,%lld,%.6f,,,%.6f,%.6f\n", epoch + 1, (long long)t->pos.global_step,
            res->val_loss, res->val_top1, res->val_top5);
    fflush(t->log);
    return MBN_OK;
}

static int run_epochs(Trainer *t) {
    const MbnTrainConfig *c = t->cfg;
    MbnTrainResult *res = t->res;
    int64_t spe = t->lr.steps_per_epoch;
    double t_start = mbn_now();
    for (int epoch = t->pos.epoch; epoch < c->epochs; epoch++) {
        t->pos.epoch = epoch;
        for (int r = 0; r < t->world; r++)
            MBN_TRY(mbn_loader_start_epoch(t->loaders[r], epoch, t->pos.step_in_epoch));
        char label[64];
        snprintf(label, sizeof label, "epoch %d/%d", epoch + 1, c->epochs);
        MbnProgress prog;
        mbn_progress_start(&prog, label, spe, c->quiet);
        double t_epoch = mbn_now();
        int64_t images = 0, first = t->pos.step_in_epoch;
        for (int64_t s = first; s < spe; s++) {
            double lr = mbn_lr_at(&t->lr, t->pos.global_step), loss = 0;
            int n;
            MBN_TRY(train_step(t, lr, &n, &loss));
            if (!isfinite(loss)) {
                mbn_progress_finish(&prog);
                return mbn_fail(MBN_EFAIL,
                                "step %lld (epoch %d): the loss is %s; stopping. "
                                "The last good checkpoint is %s",
                                (long long)t->pos.global_step + 1, epoch + 1,
                                isnan(loss) ? "NaN" : "infinite",
                                res->checkpoint[0] ? res->checkpoint : "(none yet)");
            }
            images += n;
            t->pos.global_step++;
            t->pos.step_in_epoch = s + 1;
            t->pos.loss = res->loss = loss;
            double ips = (double)images / (mbn_now() - t_epoch);
            fprintf(t->log, "train,%d,%lld,%.6f,%.8g,%.2f,,\n", epoch + 1,
                    (long long)t->pos.global_step, loss, lr, ips);
            char extra[96];
            snprintf(extra, sizeof extra, "loss %.4f lr %.4g", loss, lr);
            mbn_progress_update(&prog, s + 1 - first, images, extra);
            bool stop = interrupted || (c->max_steps > 0 && t->pos.global_step >= c->max_steps);
            bool periodic = c->save_every_steps > 0 &&
                            t->pos.global_step % c->save_every_steps == 0 && s + 1 < spe;
            if (stop || periodic) {
                fflush(t->log);
                MBN_TRY(save(t, epoch + 1, s + 1));
            }
            if (stop) {
                mbn_progress_finish(&prog);
                res->interrupted = interrupted != 0;
                res->steps = t->pos.global_step;
                res->seconds = mbn_now() - t_start;
                if (interrupted)
                    fprintf(stderr, "mbn: interrupted; saved %s (resume with --resume auto)\n",
                            res->checkpoint);
                return MBN_OK;
            }
        }
        mbn_progress_finish(&prog);
        double dt = mbn_now() - t_epoch;
        int64_t done = spe - first;
        if (!c->quiet) {
            fprintf(stderr, "epoch: %d step: %lld, loss is %.6f\n", epoch + 1, (long long)spe,
                    res->loss);
            double wait = mbn_loader_wait_seconds(t->loaders[0]);
            fprintf(stderr,
                    "Epoch time: %.3f ms, per step time: %.3f ms, %.1f images/s, waited for "
                    "data %.2f s (%.1f%%)\n",
                    dt * 1e3, done ? dt * 1e3 / (double)done : 0.0, (double)images / dt, wait,
                    100.0 * wait / dt);
        }
        fflush(t->log);
        MBN_TRY(save(t, epoch + 1, spe));
        res->epochs = epoch + 1;
        t->pos.step_in_epoch = 0;
        if (t->val_loader) MBN_TRY(evaluate_epoch(t, epoch));
    }
    res->steps = t->pos.global_step;
    res->seconds = mbn_now() - t_start;
    return MBN_OK;
}

static void cleanup(Trainer *t) {
    for (int r = 0; r < t->world; r++) {
        if (t->loaders[r]) {
            t->res->skipped += mbn_loader_skipped(t->loaders[r]);
            mbn_loader_destroy(t->loaders[r]);
        }
        mbn_net_destroy(&t->nets[r]);
    }
    if (t->val_loader) mbn_loader_destroy(t->val_loader);
    if (t->train_ds) mbn_dataset_free(t->train_ds);
    if (t->val_ds) mbn_dataset_free(t->val_ds);
    if (t->log) fclose(t->log);
    free(t->host_grads);
    free(t->host_sum);
}

int mbn_train(const MbnTrainConfig *cfg, MbnTrainResult *res) {
    memset(res, 0, sizeof *res);
    res->val_top1 = res->val_top5 = res->val_loss = NAN;
    res->loss = NAN;
    if (cfg->n_devices < 1 || cfg->n_devices > MAX_RANKS)
        return mbn_fail(MBN_EUSAGE, "--device: between 1 and %d devices can train together",
                        MAX_RANKS);
    Trainer t;
    memset(&t, 0, sizeof t);
    t.cfg = cfg;
    t.res = res;
    t.world = cfg->n_devices;
    t.lr = cfg->lr;
    t.pos.seed = cfg->seed;
    int rc = make_dir(cfg->ckpt_dir);
    if (rc == MBN_OK) rc = open_data(&t);
    MbnArch arch;
    if (rc == MBN_OK) {
        int k = cfg->num_classes ? cfg->num_classes : t.train_ds->num_classes;
        if (cfg->num_classes && cfg->num_classes != t.train_ds->num_classes)
            rc = mbn_fail(MBN_EUSAGE, "--num-classes %d: the dataset %s has %d classes",
                          cfg->num_classes, cfg->data_dir, t.train_ds->num_classes);
        else
            rc = mbn_arch_build(&arch, cfg->alpha, cfg->resolution, k);
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
    }
    if (rc == MBN_OK) rc = build_nets(&t, &arch);
    if (rc == MBN_OK) rc = resume(&t);
    if (rc == MBN_OK) {
        char labels[1200];
        snprintf(labels, sizeof labels, "%s/labels.txt", cfg->ckpt_dir);
        rc = mbn_labels_write(labels, t.train_ds->class_names, t.train_ds->num_classes);
    }
    if (rc == MBN_OK) rc = open_log(&t);
    if (rc == MBN_OK && !cfg->quiet)
        fprintf(stderr,
                "mbn: training MobileNet V1 %g-%d (%d classes) on %d device%s: %lld "
                "images, %lld steps per epoch of %d per device, %d epochs\n",
                (double)arch.alpha, arch.resolution, arch.num_classes, t.world,
                t.world > 1 ? "s" : "", (long long)t.train_ds->count,
                (long long)t.lr.steps_per_epoch, cfg->batch_size, cfg->epochs);
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    interrupted = 0;
    sigaction(SIGINT, &sa, &old);
    if (rc == MBN_OK) rc = run_epochs(&t);
    sigaction(SIGINT, &old, NULL);
    cleanup(&t);
    return rc;
}
