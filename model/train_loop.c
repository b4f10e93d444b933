#include "model/train_loop.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/error.h"
#include "host/cl_error.h"

/* The fused buffer of one rank: the gradients (param_floats), then the loss, then the stop
 * flag (1 where a stop was asked for). Averaged as one, the flag is > 0 on every rank as soon
 * as it was set on any. */
#define FUSED_LOSS 0
#define FUSED_STOP 1
#define FUSED_EXTRA 2

#define L_BYTES(net) ((net)->param_floats * sizeof(float))

/* A range of the fused buffer exchanged as one (model/comm.h): the gradients of consecutive
 * layers, or the loss and stop flag. */
typedef struct {
    size_t lo, hi;
} Bucket;

typedef struct {
    const MbnLoopConfig *cfg;
    MbnTrainRun *run;
    const MbnTrainHooks *hooks;
    MbnLoopResult *res;
    int n_local, M;    /* local ranks, micro-batches per rank */
    bool settle;       /* several local queues on a device that runs one at a time */
    size_t pf, len;    /* param_floats; the fused buffer's floats (pf + FUSED_EXTRA) */
    float **bufs;      /* n_local * M fused buffers of len floats, [r * M + m] */
    float **rank_bufs; /* n_local: bufs[r * M], where micro-batch 0..M-1 are averaged */
    cl_mem *bn_keep;   /* M > 1: per local rank, params as micro-batch 0's forward left them */
    /* Exchange order: the last layers' gradients first (backward produces them first), with
     * the loss and stop flag in the first bucket; the last one holds the stem's. */
    Bucket *buckets;
    int n_buckets;
    int stem_bucket;    /* the bucket that starts at float 0: read once backward is done */
    cl_event *ready;    /* [(r * M + m) * n_buckets + b]: the read of bucket b's values */
    int q_slot, q_next; /* while queueing: the buffer r * M + m, the next bucket to read */
    MbnNet *q_net;
    double t_done; /* when every local backward was seen finished (INFINITY before) */
} Loop;

static int finish(MbnNet *net) {
    MBN_CL_CHECK(clFinish(net->dev->queue), "device %s: waiting for the step", net->dev->info.name);
    return MBN_OK;
}

/* Copies the whole parameter buffer (src -> dst) on the rank's queue. */
static int copy_params(MbnNet *net, cl_mem src, cl_mem dst) {
    MBN_CL_CHECK(clEnqueueCopyBuffer(net->dev->queue, src, dst, 0, 0, L_BYTES(net), 0, NULL, NULL),
                 "device %s: copying the BatchNorm running statistics", net->dev->info.name);
    return MBN_OK;
}

/* Queues the read of bucket b's gradients into the buffer being filled (backward has queued
 * the kernels that finish them), with the event the exchange waits for. The bucket that ends
 * the buffer reads the loss too (the cross-entropy, queued before any gradient, wrote it). */
static int read_bucket(Loop *L, int b) {
    MbnNet *net = L->q_net;
    const Bucket *k = &L->buckets[b];
    bool loss = k->hi > L->pf;
    size_t hi = loss ? L->pf : k->hi;
    float *buf = L->bufs[L->q_slot];
    cl_event *ev = &L->ready[L->q_slot * L->n_buckets + b];
    MBN_CL_CHECK(clEnqueueReadBuffer(net->dev->queue, net->grads, CL_FALSE, k->lo * sizeof(float),
                                     (hi - k->lo) * sizeof(float), buf + k->lo, 0, NULL,
                                     loss ? NULL : ev),
                 "device %s: reading the gradients", net->dev->info.name);
    if (loss)
        MBN_CL_CHECK(clEnqueueReadBuffer(net->dev->queue, net->loss, CL_FALSE, 0, sizeof(float),
                                         buf + L->pf + FUSED_LOSS, 0, NULL, ev),
                     "device %s: reading the loss", net->dev->info.name);
    return MBN_OK;
}

/* MbnGradsReady: backward has queued every kernel behind the gradients from `from` on. */
static int grads_ready(void *ctx, size_t from) {
    Loop *L = ctx;
    if (L->q_next < L->n_buckets && L->buckets[L->q_next].lo == from)
        MBN_TRY(read_bucket(L, L->q_next++));
    return MBN_OK;
}

/* Queues local rank r's forward and backward on micro-batch m, with the read of each bucket of
 * gradients as soon as backward has queued what finishes it, and the read of the loss; nothing
 * waits here, so in-process ranks run side by side and the exchange of the first buckets can
 * start while backward goes on. */
static int queue_rank(Loop *L, int r, int m, int *images) {
    MbnNet *net = &L->run->nets[r];
    MbnBatch b;
    MBN_TRY(mbn_loader_next(L->run->loaders[r * L->M + m], &b));
    if (b.n == 0)
        return mbn_fail(MBN_EFAIL, "rank %d ran out of data mid-epoch", L->run->comm->rank + r);
    /* The running statistics of micro-batches 1.. are dropped (restored below), as those of
     * ranks 1.. never reach a checkpoint. The training forward only changes them in params. */
    if (m == 1) MBN_TRY(copy_params(net, net->params, L->bn_keep[r]));
    MBN_TRY(mbn_net_set_input(net, b.images, b.n));
    MBN_TRY(mbn_net_forward(net, b.n, true));
    L->q_slot = r * L->M + m;
    L->q_next = 0;
    L->q_net = net;
    MbnGradsReady notify = {grads_ready, L};
    MBN_TRY(mbn_net_backward_notify(net, b.labels, b.n, L->cfg->smoothing, &notify));
    if (m > 0 && m == L->M - 1) MBN_TRY(copy_params(net, L->bn_keep[r], net->params));
    if (L->q_next != L->n_buckets)
        return mbn_fail(MBN_EFAIL, "internal error: %d of %d gradient buckets read", L->q_next,
                        L->n_buckets);
    *images += b.n;
    return MBN_OK;
}

/* Waits for bucket b's reads on every local buffer (after the stem's, backward is done). */
static int wait_bucket(Loop *L, int b) {
    for (int i = 0; i < L->n_local * L->M; i++) {
        cl_event *ev = &L->ready[i * L->n_buckets + b];
        cl_int err = clWaitForEvents(1, ev);
        clReleaseEvent(*ev);
        *ev = NULL;
        if (err != CL_SUCCESS)
            return mbn_fail_cl(err, "device %s: backward and the read of its gradients",
                               L->run->nets[i / L->M].dev->info.name);
    }
    if (b == L->stem_bucket && L->t_done == INFINITY) L->t_done = mbn_now();
    return MBN_OK;
}

/* Notes the time when the last reads of the backward passes are seen complete: from then on an
 * exchange is no longer hidden behind compute. Called between exchanges and while they wait. */
static void note_compute_done(void *ctx) {
    Loop *L = ctx;
    if (L->t_done < INFINITY) return;
    for (int i = 0; i < L->n_local * L->M; i++) {
        cl_event ev = L->ready[i * L->n_buckets + L->stem_bucket];
        cl_int st = CL_QUEUED;
        if (!ev || clGetEventInfo(ev, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof st, &st, NULL) ||
            st != CL_COMPLETE)
            return;
    }
    L->t_done = mbn_now();
}

/* Averages bucket b over the ranks; returns the seconds in the exchange and adds the part of
 * them after compute was done to *exposed. */
static int exchange_bucket(Loop *L, int b, double *seconds, double *exposed) {
    MbnComm *comm = L->run->comm;
    const Bucket *k = &L->buckets[b];
    if (L->M > 1)
        for (int r = 0; r < L->n_local; r++)
            mbn_comm_fold_mean(&L->bufs[r * L->M], L->M, L->len, k->lo, k->hi);
    note_compute_done(L);
    double t0 = mbn_now();
    MBN_TRY(comm->allreduce_mean(comm, L->rank_bufs, L->len, k->lo, k->hi));
    double t1 = mbn_now();
    *seconds += t1 - t0;
    double from = t0 > L->t_done ? t0 : L->t_done;
    if (t1 > from) *exposed += t1 - from;
    return MBN_OK;
}

/* The mean of bucket b's gradients to every local rank, and their SGD step: the optimizer
 * updates a bucket's tensors as soon as its mean is known. */
static int apply_bucket(Loop *L, int b, const MbnSgdConfig *sgd) {
    const Bucket *k = &L->buckets[b];
    size_t hi = k->hi < L->pf ? k->hi : L->pf;
    if (k->lo >= hi) return MBN_OK;
    for (int r = 0; r < L->n_local; r++) {
        MbnNet *net = &L->run->nets[r];
        MBN_CL_CHECK(clEnqueueWriteBuffer(net->dev->queue, net->grads, CL_FALSE,
                                          k->lo * sizeof(float), (hi - k->lo) * sizeof(float),
                                          L->rank_bufs[0] + k->lo, 0, NULL, NULL),
                     "device %s: writing the averaged gradients", net->dev->info.name);
        MBN_TRY(mbn_net_sgd_step_range(net, sgd, k->lo, hi));
        if (L->settle) MBN_TRY(mbn_device_settle(net->dev));
    }
    return MBN_OK;
}

/* One optimizer step on every rank. Returns the mean loss, whether any rank asked to stop, the
 * seconds in exchanges and the part of them not hidden behind backward. */
static int train_step(Loop *L, double lr, int *images, double *loss, bool *stop,
                      double *comm_seconds, double *exposed_seconds) {
    const MbnLoopConfig *c = L->cfg;
    MbnTrainRun *run = L->run;
    *images = 0;
    for (int m = 0; m < L->M; m++)
        for (int r = 0; r < L->n_local; r++) {
            MBN_TRY(queue_rank(L, r, m, images));
            if (L->settle) MBN_TRY(mbn_device_settle(run->nets[r].dev));
        }
    MbnSgdConfig sgd = {(float)lr, c->momentum, c->weight_decay, c->decay_all};
    L->t_done = INFINITY;
    *comm_seconds = *exposed_seconds = 0;
    for (int b = 0; b < L->n_buckets; b++) {
        MBN_TRY(wait_bucket(L, b));
        if (L->buckets[b].hi > L->pf) {
            /* Asked before the first exchange: with one exchange after backward, a signal that
             * arrived during the backward passes still stops this step; with buckets, one that
             * arrives later stops the next (on every rank alike: the flag is averaged). */
            bool asked = L->hooks->stop_requested && L->hooks->stop_requested(L->hooks->ctx);
            for (int i = 0; i < L->n_local * L->M; i++)
                L->bufs[i][L->pf + FUSED_STOP] = asked ? 1.0f : 0.0f;
        }
        MBN_TRY(exchange_bucket(L, b, comm_seconds, exposed_seconds));
        MBN_TRY(apply_bucket(L, b, &sgd));
    }
    const float *mean = L->rank_bufs[0];
    *loss = mean[L->pf + FUSED_LOSS];
    *stop = mean[L->pf + FUSED_STOP] > 0.0f;
    /* bufs[0] is the source of every rank's write and the target of rank 0's next read: with
     * several queues, the writes must be done before any rank runs ahead. */
    if (L->n_local > 1)
        for (int r = 0; r < L->n_local; r++)
            MBN_TRY(finish(&run->nets[r]));
    /* Every rank does the same images per step (full batches; an unreadable image is replaced),
     * so the job's count follows from this process's. */
    *images = *images / L->n_local * run->comm->world;
    return MBN_OK;
}

/* Rank 0's weights, momentum and position to every rank. */
static int sync_start(Loop *L) {
    MbnTrainRun *run = L->run;
    MbnComm *comm = run->comm;
    size_t pf = L->pf;
    float *w = malloc(2 * pf * sizeof *w);
    if (!w) return mbn_fail(MBN_EFAIL, "out of host memory");
    int rc = MBN_OK;
    if (comm->rank == 0) {
        rc = mbn_net_read_buffer(&run->nets[0], run->nets[0].params, w);
        if (rc == MBN_OK) rc = mbn_net_read_buffer(&run->nets[0], run->nets[0].momentum, w + pf);
    }
    if (rc == MBN_OK) rc = comm->broadcast(comm, w, 2 * pf * sizeof *w);
    for (int r = 0; rc == MBN_OK && r < L->n_local; r++) {
        if (comm->rank + r == 0) continue;
        rc = mbn_net_write_buffer(&run->nets[r], run->nets[r].params, w);
        if (rc == MBN_OK) rc = mbn_net_write_buffer(&run->nets[r], run->nets[r].momentum, w + pf);
    }
    free(w);
    if (rc == MBN_OK) rc = comm->broadcast(comm, &run->pos, sizeof run->pos);
    return rc;
}

static int save(Loop *L) {
    if (L->run->comm->rank != 0 || !L->hooks->save) return MBN_OK;
    return L->hooks->save(L->hooks->ctx, &L->run->nets[0], &L->run->pos);
}

static int evaluate_epoch(Loop *L, int epoch) {
    MbnEvalStats st;
    MBN_TRY(mbn_evaluate(&L->run->nets[0], L->run->val_loader, L->cfg->quiet, &st));
    MbnLoopResult *res = L->res;
    res->val_top1 = (double)st.top1 / (double)st.images;
    res->val_top5 = (double)st.top5 / (double)st.images;
    res->val_loss = st.loss_sum / (double)st.images;
    if (L->hooks->evaluated)
        MBN_TRY(L->hooks->evaluated(L->hooks->ctx, epoch, L->run->pos.global_step, &st));
    return MBN_OK;
}

static int run_epochs(Loop *L) {
    const MbnLoopConfig *c = L->cfg;
    const MbnTrainHooks *h = L->hooks;
    MbnTrainRun *run = L->run;
    MbnTrainPosition *pos = &run->pos;
    MbnLoopResult *res = L->res;
    int64_t spe = c->lr.steps_per_epoch;
    double t_start = mbn_now();
    for (int epoch = pos->epoch; epoch < c->epochs; epoch++) {
        pos->epoch = epoch;
        for (int i = 0; i < L->n_local * L->M; i++)
            MBN_TRY(mbn_loader_start_epoch(run->loaders[i], epoch, pos->step_in_epoch));
        int64_t images = 0, first = pos->step_in_epoch;
        if (h->epoch_begin) h->epoch_begin(h->ctx, epoch, first, spe);
        double t_epoch = mbn_now(), comm_epoch = 0, exposed_epoch = 0;
        for (int64_t s = first; s < spe; s++) {
            double lr = mbn_lr_at(&c->lr, pos->global_step), loss = 0, comm_s = 0, exposed_s = 0;
            int n;
            bool asked = false;
            MBN_TRY(train_step(L, lr, &n, &loss, &asked, &comm_s, &exposed_s));
            comm_epoch += comm_s;
            exposed_epoch += exposed_s;
            res->comm_seconds += comm_s;
            res->comm_exposed_seconds += exposed_s;
            if (!isfinite(loss)) {
                res->failed_everywhere = true; /* every rank has the same mean loss */
                return mbn_fail(MBN_EFAIL, "step %lld (epoch %d): the loss is %s; stopping",
                                (long long)pos->global_step + 1, epoch + 1,
                                isnan(loss) ? "NaN" : "infinite");
            }
            images += n;
            pos->global_step++;
            res->steps_run++;
            pos->step_in_epoch = s + 1;
            pos->loss = res->loss = loss;
            MbnStepReport rep = {epoch, s + 1,  first,  pos->global_step, loss,
                                 lr,    images, comm_s, exposed_s};
            if (h->step_done) MBN_TRY(h->step_done(h->ctx, &rep));
            bool stop = asked || (c->max_steps > 0 && pos->global_step >= c->max_steps);
            bool periodic = c->save_every_steps > 0 &&
                            pos->global_step % c->save_every_steps == 0 && s + 1 < spe;
            if (stop || periodic) MBN_TRY(save(L));
            if (stop) {
                res->interrupted = asked;
                res->steps = pos->global_step;
                res->seconds = mbn_now() - t_start;
                return MBN_OK;
            }
        }
        MbnEpochReport er = {epoch,
                             spe - first,
                             images,
                             mbn_now() - t_epoch,
                             mbn_loader_wait_seconds(run->loaders[0]),
                             comm_epoch,
                             exposed_epoch,
                             res->loss};
        if (h->epoch_done) MBN_TRY(h->epoch_done(h->ctx, &er));
        MBN_TRY(save(L));
        res->epochs = epoch + 1;
        pos->step_in_epoch = 0;
        pos->name_step_samples = pos->samples_per_step; /* a new epoch is named in our steps */
        if (run->val_loader) MBN_TRY(evaluate_epoch(L, epoch));
    }
    res->steps = pos->global_step;
    res->seconds = mbn_now() - t_start;
    return MBN_OK;
}

/* Buckets of whole layers, cut from the stem up every cap floats or more: the stem's bucket,
 * exchanged once backward is done and so never hidden, stays small; the top one (the
 * classifier's, exchanged first) takes the rest, and the loss and stop flag. cap 0 (or one
 * rank): the whole buffer at once, after backward. Exchange order: top first. */
static int plan_buckets(Loop *L, size_t cap) {
    const MbnNet *net = &L->run->nets[0];
    const MbnArch *a = &net->arch;
    L->buckets = calloc((size_t)a->n_layers + 1, sizeof *L->buckets);
    L->ready = calloc((size_t)(L->n_local * L->M) * ((size_t)a->n_layers + 1), sizeof *L->ready);
    if (!L->buckets || !L->ready) return mbn_fail(MBN_EFAIL, "out of host memory");
    size_t lo = 0;
    for (int l = 0; cap > 0 && L->run->comm->world > 1 && l < a->n_layers; l++) {
        size_t next = L->pf; /* where the next layer's tensors start */
        for (int j = l + 1; j < a->n_layers && next == L->pf; j++)
            if (net->lp[j].w != SIZE_MAX) next = net->lp[j].w;
        if (net->lp[l].w == SIZE_MAX || next - lo < cap || next == L->pf) continue;
        L->buckets[L->n_buckets++] = (Bucket){lo, next};
        lo = next;
    }
    L->buckets[L->n_buckets++] = (Bucket){lo, L->len};
    for (int i = 0, j = L->n_buckets - 1; i < j; i++, j--) {
        Bucket t = L->buckets[i];
        L->buckets[i] = L->buckets[j];
        L->buckets[j] = t;
    }
    L->stem_bucket = L->n_buckets - 1;
    return MBN_OK;
}

static int alloc_buffers(Loop *L) {
    int n = L->n_local * L->M;
    L->bufs = calloc((size_t)n, sizeof *L->bufs);
    L->rank_bufs = calloc((size_t)L->n_local, sizeof *L->rank_bufs);
    if (!L->bufs || !L->rank_bufs) return mbn_fail(MBN_EFAIL, "out of host memory");
    for (int i = 0; i < n; i++)
        if (!(L->bufs[i] = malloc(L->len * sizeof(float))))
            return mbn_fail(MBN_EFAIL, "out of host memory");
    for (int r = 0; r < L->n_local; r++)
        L->rank_bufs[r] = L->bufs[r * L->M];
    MBN_TRY(plan_buckets(L, L->cfg->bucket_bytes / sizeof(float)));
    if (L->M == 1) return MBN_OK;
    L->bn_keep = calloc((size_t)L->n_local, sizeof *L->bn_keep);
    if (!L->bn_keep) return mbn_fail(MBN_EFAIL, "out of host memory");
    for (int r = 0; r < L->n_local; r++) {
        MbnNet *net = &L->run->nets[r];
        cl_int err;
        L->bn_keep[r] =
            clCreateBuffer(net->dev->context, CL_MEM_READ_WRITE, L_BYTES(net), NULL, &err);
        MBN_CL_CHECK(err, "device %s: allocating %zu bytes for gradient accumulation",
                     net->dev->info.name, L_BYTES(net));
    }
    return MBN_OK;
}

static void free_buffers(Loop *L) {
    /* Queued reads and writes may still point into the buffers after a failure. */
    for (int r = 0; r < L->n_local; r++)
        clFinish(L->run->nets[r].dev->queue);
    for (int i = 0; L->ready && i < L->n_local * L->M * L->n_buckets; i++)
        if (L->ready[i]) clReleaseEvent(L->ready[i]);
    for (int i = 0; L->bufs && i < L->n_local * L->M; i++)
        free(L->bufs[i]);
    for (int r = 0; L->bn_keep && r < L->n_local; r++)
        if (L->bn_keep[r]) clReleaseMemObject(L->bn_keep[r]);
    free(L->bufs);
    free(L->rank_bufs);
    free(L->bn_keep);
    free(L->buckets);
    free(L->ready);
}

int mbn_train_loop(const MbnLoopConfig *cfg, MbnTrainRun *run, const MbnTrainHooks *hooks,
                   MbnLoopResult *res) {
    memset(res, 0, sizeof *res);
    res->loss = res->val_top1 = res->val_top5 = res->val_loss = NAN;
    res->epochs = run->pos.epoch;
    if (run->accumulate < 1)
        return mbn_fail(MBN_EUSAGE, "accumulate %d: must be at least 1", run->accumulate);
    Loop L;
    memset(&L, 0, sizeof L);
    L.cfg = cfg;
    L.run = run;
    L.hooks = hooks;
    L.res = res;
    L.n_local = run->comm->n_local;
    L.M = run->accumulate;
    L.pf = run->nets[0].param_floats;
    L.len = L.pf + FUSED_EXTRA;
    L.t_done = INFINITY;
    for (int r = 0; L.n_local > 1 && r < L.n_local; r++)
        L.settle = L.settle || run->nets[r].dev->serialize_queues;
    MbnComm *comm = run->comm;
    comm->waiting = note_compute_done;
    comm->waiting_ctx = &L;
    int rc = alloc_buffers(&L);
    if (rc == MBN_OK) rc = sync_start(&L);
    res->epochs = run->pos.epoch;
    if (rc == MBN_OK) rc = run_epochs(&L);
    comm->waiting = NULL;
    comm->waiting_ctx = NULL;
    free_buffers(&L);
    return rc;
}
