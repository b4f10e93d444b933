#include "model/train_loop.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/error.h"

typedef struct {
    const MbnLoopConfig *cfg;
    MbnTrainRun *run;
    const MbnTrainHooks *hooks;
    MbnLoopResult *res;
    float *host_grads, *host_sum; /* data-parallel averaging */
} Loop;

/* Averages the gradients of all ranks in rank order on the host and writes the mean back to
 * every rank: the same bits on every rank, whatever the devices' timing. */
static int allreduce_mean(Loop *L) {
    MbnTrainRun *run = L->run;
    if (run->world == 1) return MBN_OK;
    size_t n = run->nets[0].param_floats;
    MBN_TRY(mbn_net_read_buffer(&run->nets[0], run->nets[0].grads, L->host_sum));
    for (int r = 1; r < run->world; r++) {
        MBN_TRY(mbn_net_read_buffer(&run->nets[r], run->nets[r].grads, L->host_grads));
        for (size_t i = 0; i < n; i++)
            L->host_sum[i] += L->host_grads[i];
    }
    float inv = 1.0f / (float)run->world;
    for (size_t i = 0; i < n; i++)
        L->host_sum[i] *= inv;
    for (int r = 0; r < run->world; r++)
        MBN_TRY(mbn_net_write_buffer(&run->nets[r], run->nets[r].grads, L->host_sum));
    return MBN_OK;
}

/* One optimizer step on every rank; returns the mean loss over ranks. */
static int train_step(Loop *L, double lr, int *images, double *loss) {
    const MbnLoopConfig *c = L->cfg;
    MbnTrainRun *run = L->run;
    *images = 0;
    for (int r = 0; r < run->world; r++) {
        MbnBatch b;
        MBN_TRY(mbn_loader_next(run->loaders[r], &b));
        if (b.n == 0) return mbn_fail(MBN_EFAIL, "rank %d ran out of data mid-epoch", r);
        MBN_TRY(mbn_net_set_input(&run->nets[r], b.images, b.n));
        MBN_TRY(mbn_net_forward(&run->nets[r], b.n, true));
        MBN_TRY(mbn_net_backward(&run->nets[r], b.labels, b.n, c->smoothing));
        *images += b.n;
    }
    MBN_TRY(allreduce_mean(L));
    MbnSgdConfig sgd = {(float)lr, c->momentum, c->weight_decay, c->decay_all};
    double sum = 0;
    for (int r = 0; r < run->world; r++) {
        MBN_TRY(mbn_net_sgd_step(&run->nets[r], &sgd));
        float l;
        MBN_TRY(mbn_net_read_loss(&run->nets[r], &l));
        sum += l;
    }
    *loss = sum / run->world;
    return MBN_OK;
}

static int save(Loop *L) {
    if (!L->hooks->save) return MBN_OK;
    return L->hooks->save(L->hooks->ctx, &L->run->nets[0], &L->run->pos);
}

static int evaluate_epoch(Loop *L, int epoch) {
    MbnEvalStats st;
    MBN_TRY(mbn_evaluate(&L->run->nets[0], L->run->val_loader, L->cfg->quiet, &st));
    MbnLoopResult *res = L->res;
    res->val_top1 = (double)st.top1 / (double)st.images;
    res->val_top5 = (double)st.top5 / (double)st.images;
    res->val_loss = st.loss_sum / (double)st.images;
    if (L->hooks->evaluated) MBN_TRY(L->hooks->evaluated(L->hooks->ctx, epoch, &st));
    return MBN_OK;
}

static bool stop_requested(const Loop *L) {
    return L->hooks->stop_requested && L->hooks->stop_requested(L->hooks->ctx);
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
        for (int r = 0; r < run->world; r++)
            MBN_TRY(mbn_loader_start_epoch(run->loaders[r], epoch, pos->step_in_epoch));
        int64_t images = 0, first = pos->step_in_epoch;
        if (h->epoch_begin) h->epoch_begin(h->ctx, epoch, first, spe);
        double t_epoch = mbn_now();
        for (int64_t s = first; s < spe; s++) {
            double lr = mbn_lr_at(&c->lr, pos->global_step), loss = 0;
            int n;
            MBN_TRY(train_step(L, lr, &n, &loss));
            if (!isfinite(loss))
                return mbn_fail(MBN_EFAIL, "step %lld (epoch %d): the loss is %s; stopping",
                                (long long)pos->global_step + 1, epoch + 1,
                                isnan(loss) ? "NaN" : "infinite");
            images += n;
            pos->global_step++;
            pos->step_in_epoch = s + 1;
            pos->loss = res->loss = loss;
            MbnStepReport rep = {epoch, s + 1, first, pos->global_step, loss, lr, images};
            if (h->step_done) MBN_TRY(h->step_done(h->ctx, &rep));
            bool interrupted = stop_requested(L);
            bool stop = interrupted || (c->max_steps > 0 && pos->global_step >= c->max_steps);
            bool periodic = c->save_every_steps > 0 &&
                            pos->global_step % c->save_every_steps == 0 && s + 1 < spe;
            if (stop || periodic) MBN_TRY(save(L));
            if (stop) {
                res->interrupted = interrupted;
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
                             res->loss};
        if (h->epoch_done) MBN_TRY(h->epoch_done(h->ctx, &er));
        MBN_TRY(save(L));
        res->epochs = epoch + 1;
        pos->step_in_epoch = 0;
        if (run->val_loader) MBN_TRY(evaluate_epoch(L, epoch));
    }
    res->steps = pos->global_step;
    res->seconds = mbn_now() - t_start;
    return MBN_OK;
}

int mbn_train_loop(const MbnLoopConfig *cfg, MbnTrainRun *run, const MbnTrainHooks *hooks,
                   MbnLoopResult *res) {
    memset(res, 0, sizeof *res);
    res->loss = res->val_top1 = res->val_top5 = res->val_loss = NAN;
    res->epochs = run->pos.epoch;
    Loop L = {cfg, run, hooks, res, NULL, NULL};
    int rc = MBN_OK;
    if (run->world > 1) {
        L.host_grads = malloc(run->nets[0].param_floats * sizeof(float));
        L.host_sum = malloc(run->nets[0].param_floats * sizeof(float));
        if (!L.host_grads || !L.host_sum) rc = mbn_fail(MBN_EFAIL, "out of host memory");
    }
    if (rc == MBN_OK) rc = run_epochs(&L);
    free(L.host_grads);
    free(L.host_sum);
    return rc;
}
