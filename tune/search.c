#include "tune/search.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/error.h"
#include "base/rng.h"
#include "host/cl_error.h"
#include "model/net.h"
#include "host/plan.h"
#include "tune/search_internal.h"

#define TOL 2e-3        /* output agreement, relative to each tensor's largest magnitude */
#define NOISE_FACTOR 20 /* times a tensor's measured sensitivity to rounding-size changes */
#define WIN_MARGIN 0.02 /* a candidate must be this much faster than the best to replace it */
#define PAIRS 2         /* alternating timed samples per side, at least */

double mbn_tune_output_error(const float *a, const float *ref, size_t n) {
    double max_ref = 0, max_diff = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(a[i]) || !isfinite(ref[i])) return INFINITY;
        double r = fabs((double)ref[i]), d = fabs((double)a[i] - (double)ref[i]);
        if (r > max_ref) max_ref = r;
        if (d > max_diff) max_diff = d;
    }
    return max_diff == 0 ? 0 : max_diff / (max_ref + 1e-30);
}

bool mbn_tune_outputs_agree(const float *a, const float *ref, size_t n, double tol) {
    return mbn_tune_output_error(a, ref, n) <= tol;
}

/* ---- rigs: a device opened with a configuration and a network on it ---- */

static void rig_close(TuneRig *r) {
    if (!r) return;
    if (r->net_open) mbn_net_destroy(&r->net);
    if (r->dev_open) mbn_device_close(&r->dev);
    free(r);
}

/* Every op's row and values, explicitly: the plan's for the ops this run decides; for the
 * others an earlier run's decision where there is one, else the baseline (plan + database). */
static int plan_overrides(const Tuner *t, const TunePlan *p, MbnVariantOverride *ov) {
    int n = 0;
    MbnVariantOverride kept[MBN_OP_COUNT];
    int nk = mbn_tune_cache_overrides(&t->kept, t->use, kept, MBN_OP_COUNT);
    /* The ops this run decides last: a define they share with another op's row (one kernel)
     * takes their value (host/variants.h). */
    for (int i = 0; i < 2 * MBN_OP_COUNT; i++) {
        int op = i % MBN_OP_COUNT;
        if (t->tuned_op[op] != (i >= MBN_OP_COUNT)) continue;
        bool from_kept = false;
        for (int k = 0; !t->tuned_op[op] && k < nk; k++)
            if (kept[k].op == (MbnOp)op) {
                ov[n++] = kept[k];
                from_kept = true;
            }
        if (from_kept) continue;
        const TunePlan *src = t->tuned_op[op] ? p : &t->default_plan;
        MbnVariantOverride *o = &ov[n++];
        memset(o, 0, sizeof *o);
        o->op = (MbnOp)op;
        o->row = src->row[op]->name;
        o->n = src->row[op]->n_params;
        for (int k = 0; k < o->n; k++) {
            o->param[k] = src->row[op]->params[k].name;
            o->value[k] = src->value[op][k];
        }
    }
    return n;
}

static int rig_open(Tuner *t, const TunePlan *p, TuneRig **out) {
    *out = NULL;
    TuneRig *r = calloc(1, sizeof *r);
    if (!r) return mbn_fail(MBN_EFAIL, "out of host memory");
    MbnVariantOverride ov[MBN_OP_COUNT];
    int n = plan_overrides(t, p, ov);
    int rc = mbn_device_open_with(&r->dev, t->cfg->info, ov, n);
    r->dev_open = rc == MBN_OK;
    if (rc == MBN_OK && t->n_clblast)
        rc = mbn_tune_apply_clblast(t->cfg->info, t->clblast, t->n_clblast);
    if (rc == MBN_OK)
        rc = mbn_net_create(&r->net, &r->dev, &t->cfg->arch, t->cfg->batch, t->cfg->train);
    r->net_open = rc == MBN_OK && r->dev_open;
    if (rc == MBN_OK) rc = mbn_net_init(&r->net, 1);
    if (rc == MBN_OK) rc = mbn_net_set_input(&r->net, t->x, t->cfg->batch);
    if (rc != MBN_OK) {
        rig_close(r);
        return rc;
    }
    *out = r;
    return MBN_OK;
}

static int step(Tuner *t, TuneRig *r) {
    MbnNet *net = &r->net;
    MBN_TRY(mbn_net_forward(net, t->cfg->batch, t->cfg->train));
    if (t->cfg->train) {
        MBN_TRY(mbn_net_backward(net, t->labels, t->cfg->batch, 0.1f));
        MbnSgdConfig sgd = {0.01f, 0.9f, 0.0f, false};
        MBN_TRY(mbn_net_sgd_step(net, &sgd));
    }
    MBN_CL_CHECK(clFinish(r->dev.queue), "device %s: clFinish", r->dev.info.name);
    return MBN_OK;
}

/* Steps per timing sample: a sample of at least ~40 ms, so a short step is not all noise. */
static int sample_steps(const Tuner *t) {
    double ms = t->st.best_ms > 0 ? t->st.best_ms : 40.0;
    int k = (int)ceil(40.0 / ms);
    return k < 1 ? 1 : k > 200 ? 200 : k;
}

/* One sample: k steps back to back; *ms keeps the fastest per-step time seen. */
static int timed_step(Tuner *t, TuneRig *r, double *ms) {
    int k = sample_steps(t);
    double t0 = mbn_now();
    for (int i = 0; i < k; i++)
        MBN_TRY(step(t, r));
    double dt = (mbn_now() - t0) * 1000.0 / k;
    if (dt < *ms) *ms = dt;
    return MBN_OK;
}

/* One forward (training: + backward) from the initial weights: the outputs every candidate must
 * reproduce. `reference` stores them; otherwise they are compared. Then one untimed full step,
 * so every kernel a timed step launches has been compiled. */
/* The outputs a configuration must reproduce, from the initial weights and the given images:
 * the logits and, in training, the loss and every gradient after one backward. */
static int outputs(Tuner *t, TuneRig *r, const float *x, float *logits, float *loss, float *grads) {
    MbnNet *net = &r->net;
    int B = t->cfg->batch;
    MBN_TRY(mbn_net_init(net, 1));
    MBN_TRY(mbn_net_set_input(net, x, B));
    MBN_TRY(mbn_net_forward(net, B, t->cfg->train));
    MBN_TRY(mbn_net_read_logits(net, B, logits));
    if (t->cfg->train) {
        MBN_TRY(mbn_net_backward(net, t->labels, B, 0.1f));
        MBN_TRY(mbn_net_read_loss(net, loss));
        MBN_TRY(mbn_net_read_buffer(net, net->grads, grads));
    }
    return MBN_OK;
}

/* Deviation of every output tensor from the reference's, relative to the reference tensor's
 * largest magnitude: [0] logits, [1] loss, [2 + i] gradient of parameter i (0 when not
 * trainable). Returns the count. */
static int deviations(const Tuner *t, const MbnNet *net, const float *logits, float loss,
                      const float *grads, double *dev) {
    dev[0] = mbn_tune_output_error(logits, t->ref_logits, (size_t)t->cfg->batch * t->n_classes);
    dev[1] = 0;
    if (!t->cfg->train) return 2;
    dev[1] = mbn_tune_output_error(&loss, &t->ref_loss, 1);
    for (int i = 0; i < net->n_params; i++) {
        const MbnParam *p = &net->params_table[i];
        dev[2 + i] = p->trainable ? mbn_tune_output_error(grads + p->offset,
                                                          t->ref_grads + p->offset, p->count)
                                  : 0;
    }
    return 2 + net->n_params;
}

static void tensor_name(const Tuner *t, const MbnNet *net, int i, char *out, size_t len) {
    if (i == 0)
        snprintf(out, len, "logits");
    else if (i == 1)
        snprintf(out, len, "loss");
    else
        snprintf(out, len, "gradient of %s", net->params_table[i - 2].name);
    (void)t;
}

/* The reference (the default configuration's outputs) and each tensor's tolerance. Some
 * tensors are ill-conditioned in a small network at random init (BatchNorm over a handful of
 * values, gradients that nearly cancel): a different summation order legitimately moves them
 * by far more than float rounding. Their sensitivity is measured, not guessed: the same
 * configuration on images perturbed by a relative 1e-6 (the size of a reordered sum's
 * rounding) gives each tensor's noise level; a candidate may deviate by NOISE_FACTOR times
 * that, and never less than TOL. A wrong kernel is off by O(1) in the well-conditioned
 * tensors, which are most of them. */
static int reference(Tuner *t, TuneRig *r) {
    MbnNet *net = &r->net;
    int B = t->cfg->batch;
    size_t n_in = (size_t)B * t->cfg->arch.resolution * t->cfg->arch.resolution * 3;
    MBN_TRY(outputs(t, r, t->x, t->ref_logits, &t->ref_loss, t->ref_grads));
    float *xp = malloc(n_in * sizeof *xp);
    if (!xp) return mbn_fail(MBN_EFAIL, "out of host memory");
    MbnRng rng;
    mbn_rng_seed(&rng, 3);
    for (size_t i = 0; i < n_in; i++)
        xp[i] = t->x[i] * (1.0f + 1e-6f * (float)(2.0 * mbn_rng_uniform(&rng) - 1.0));
    float loss = 0;
    int rc = outputs(t, r, xp, t->out_logits, &loss, t->out_grads);
    free(xp);
    MBN_TRY(rc);
    t->n_tol = deviations(t, net, t->out_logits, loss, t->out_grads, t->tol);
    for (int i = 0; i < t->n_tol; i++)
        t->tol[i] = fmax(TOL, NOISE_FACTOR * t->tol[i]);
    MBN_TRY(mbn_net_set_input(net, t->x, B));
    return step(t, r);
}

/* A candidate's outputs against the reference, tensor by tensor; then one untimed full step, so
 * every kernel a timed step launches has been compiled. */
static int rig_check(Tuner *t, TuneRig *r, bool *agree) {
    MbnNet *net = &r->net;
    float loss = 0;
    MBN_TRY(outputs(t, r, t->x, t->out_logits, &loss, t->out_grads));
    if (getenv("MBN_TUNE_TEST_CORRUPT")) t->out_logits[0] += 1.0f; /* tests: the gate holds */
    double dev[2 + 160];
    int n = deviations(t, net, t->out_logits, loss, t->out_grads, dev);
    int worst = 0;
    for (int i = 1; i < n; i++)
        if (dev[i] / t->tol[i] > dev[worst] / t->tol[worst]) worst = i;
    t->worst_err = dev[worst];
    t->worst_tol = t->tol[worst];
    tensor_name(t, net, worst, t->worst_name, sizeof t->worst_name);
    *agree = dev[worst] <= t->tol[worst];
    return step(t, r);
}

/* Alternating samples of a and b; the fastest of each. Shared cores make single samples
 * noisy (other processes only ever slow a sample down), so: at least PAIRS pairs, up to
 * 2 * PAIRS while the two are within twice the margin of each other. */
static int race(Tuner *t, TuneRig *a, TuneRig *b, double *ma, double *mb) {
    *ma = *mb = INFINITY;
    for (int i = 0; i < 2 * PAIRS; i++) {
        if (i >= PAIRS && fabs(*mb / *ma - 1.0) > 2.0 * WIN_MARGIN) break;
        MBN_TRY(timed_step(t, a, ma));
        MBN_TRY(timed_step(t, b, mb));
    }
    return MBN_OK;
}

/* ---- the search ---- */

static void note(Tuner *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(Tuner *t, const char *fmt, ...) {
    if (t->cfg->quiet) return;
    va_list ap;
    va_start(ap, fmt);
    if (isatty(STDERR_FILENO)) fputs("\r\033[K", stderr); /* over the progress bar */
    fprintf(stderr, "mbn: tune: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void report_progress(Tuner *t) {
    t->st.elapsed_s = mbn_now() - t->t0;
    t->st.trying = t->trying;
    if (t->cfg->progress) t->cfg->progress(t->cfg->progress_ctx, &t->st);
}

#define FINAL_PAIRS (2 * PAIRS + 1)

/* Seconds a candidate costs: opening, a check and a warm-up step, one race (a confirmation
 * race only for wins). The final comparison's cost is kept free at the end of the budget. */
static double candidate_cost(const Tuner *t) {
    double step_s = t->st.best_ms * 1e-3;
    return t->open_s + (2.0 + 2.0 * PAIRS * sample_steps(t)) * step_s;
}

static bool time_left(Tuner *t) {
    double final_s = t->open_s + (2.0 + 2.0 * FINAL_PAIRS * sample_steps(t)) * t->st.best_ms * 1e-3;
    if (mbn_now() + candidate_cost(t) + final_s <= t->variant_deadline) return true;
    t->rep->budget_ran_out = true;
    return false;
}

static void describe(const TunePlan *p, MbnOp op, int changed_param, char *out, size_t len) {
    if (changed_param < 0) {
        snprintf(out, len, "%s", p->row[op]->name);
        return;
    }
    snprintf(out, len, "%s %s=%d", p->row[op]->name, p->row[op]->params[changed_param].name,
             p->value[op][changed_param]);
}

int mbn_tune_try(Tuner *t, const TunePlan *cand, const char *what) {
    if (!time_left(t)) return MBN_OK;
    snprintf(t->trying, sizeof t->trying, "%s", what);
    report_progress(t);
    t->rep->tried++;
    t->st.done++;
    double t_open = mbn_now();
    TuneRig *r = NULL;
    int rc = rig_open(t, cand, &r);
    if (rc != MBN_OK) {
        t->rep->failed++;
        note(t, "%s: failed (%s)", what, mbn_last_error());
        mbn_clear_error();
        report_progress(t);
        return MBN_OK;
    }
    t->open_s = mbn_now() - t_open;
    bool agree = false;
    rc = rig_check(t, r, &agree);
    if (rc == MBN_OK && !agree) {
        t->rep->rejected_wrong++;
        note(t, "%s: rejected: %s off by %.2g of its largest magnitude (tolerance %.2g)", what,
             t->worst_name, t->worst_err, t->worst_tol);
        rig_close(r);
        report_progress(t);
        return MBN_OK;
    }
    double mb = 0, mc = 0;
    if (rc == MBN_OK) rc = race(t, t->best, r, &mb, &mc);
    /* A win is raced again (the other side first this time) before it counts. */
    if (rc == MBN_OK && mc < mb * (1.0 - WIN_MARGIN)) {
        double mb2 = 0, mc2 = 0;
        rc = race(t, r, t->best, &mc2, &mb2);
        if (mc2 > mc) mc = mc2;
        if (mb2 < mb) mb = mb2;
    }
    if (rc != MBN_OK) {
        t->rep->failed++;
        note(t, "%s: failed (%s)", what, mbn_last_error());
        mbn_clear_error();
        rig_close(r);
        report_progress(t);
        return MBN_OK;
    }
    bool won = mc < mb * (1.0 - WIN_MARGIN);
    note(t, "%s: %.2f ms/step against %.2f (%+.1f%%)%s", what, mc, mb, 100.0 * (mc / mb - 1.0),
         won ? ": new best" : "");
    if (won) {
        rig_close(t->best);
        t->best = r;
        t->best_plan = *cand;
        t->st.best_ms = mc;
    } else {
        rig_close(r);
        t->st.best_ms = mb;
    }
    report_progress(t);
    return MBN_OK;
}

int mbn_tune_check_plan(Tuner *t, const TunePlan *p) {
    TuneRig *r = NULL;
    bool agree = false;
    int rc = rig_open(t, p, &r);
    if (rc == MBN_OK) rc = rig_check(t, r, &agree);
    rig_close(r);
    if (rc == MBN_OK && !agree) {
        note(t, "the network disagrees with the reference under the new CLBlast parameters: "
                "dropping them");
        t->rep->rejected_wrong++;
        t->n_clblast = t->kept.n_clblast;
        memcpy(t->clblast, t->kept.clblast, sizeof t->clblast);
        t->clblast_changed = false;
    }
    return rc;
}

/* Ops in the order they are searched: where most of a step goes first, so a budget that ends
 * early has spent itself well. */
static const MbnOp search_order[] = {MBN_OP_GEMM,         MBN_OP_GEMM_WGRAD,    MBN_OP_DW_FWD,
                                     MBN_OP_DW_BWD_INPUT, MBN_OP_DW_BWD_WEIGHT, MBN_OP_BN_FWD,
                                     MBN_OP_BN_BWD,       MBN_OP_STEM_FWD,      MBN_OP_DWPW_FWD};
#define N_ORDER (sizeof search_order / sizeof search_order[0])

static int search_variants(Tuner *t) {
    char what[160];
    /* Rows of every op first (a different kernel changes more than a parameter does). */
    for (size_t i = 0; i < N_ORDER; i++) {
        MbnOp op = search_order[i];
        if (!t->tuned_op[op]) continue;
        const MbnVariant *rows[32];
        int nr = mbn_variants_candidates(&t->cfg->info->profile, op, rows, 32);
        const MbnVariant *start = t->best_plan.row[op];
        for (int k = 0; k < nr && k < 32; k++) {
            if (rows[k] == start) continue;
            TunePlan cand = t->best_plan;
            mbn_tune_plan_set_row(&cand, &t->cfg->info->profile, op, rows[k]);
            describe(&cand, op, -1, what, sizeof what);
            MBN_TRY(mbn_tune_try(t, &cand, what));
        }
    }
    /* Then the parameters of the row each op now has, one at a time. */
    for (size_t i = 0; i < N_ORDER; i++) {
        MbnOp op = search_order[i];
        if (!t->tuned_op[op]) continue;
        const MbnVariant *row = t->best_plan.row[op];
        for (int p = 0; p < row->n_params; p++) {
            int start = t->best_plan.value[op][p], cand_values[MBN_VARIANT_MAX_CANDIDATES + 1];
            int nc = mbn_plan_candidates(&t->cfg->info->profile, row, p, cand_values,
                                         MBN_VARIANT_MAX_CANDIDATES + 1);
            for (int c = 0; c < nc && c <= MBN_VARIANT_MAX_CANDIDATES; c++) {
                if (cand_values[c] == start) continue;
                TunePlan cand = t->best_plan;
                cand.value[op][p] = cand_values[c];
                describe(&cand, op, p, what, sizeof what);
                MBN_TRY(mbn_tune_try(t, &cand, what));
            }
        }
    }
    return MBN_OK;
}

void mbn_tune_plan_set_row(TunePlan *p, const MbnDeviceProfile *profile, MbnOp op,
                           const MbnVariant *row) {
    p->row[op] = row;
    mbn_plan_row(profile, row, p->value[op]);
}

static int count_candidates(const Tuner *t) {
    int n = 0;
    for (int op = 0; op < MBN_OP_COUNT; op++) {
        if (!t->tuned_op[op]) continue;
        const MbnVariant *rows[32];
        int nr = mbn_variants_candidates(&t->cfg->info->profile, (MbnOp)op, rows, 32);
        n += nr - 1;
        const MbnVariant *row = t->best_plan.row[op];
        for (int p = 0; p < row->n_params; p++) {
            int cand[MBN_VARIANT_MAX_CANDIDATES + 1];
            int nc = mbn_plan_candidates(&t->cfg->info->profile, row, p, cand,
                                         MBN_VARIANT_MAX_CANDIDATES + 1);
            n += nc > 0 ? nc - 1 : 0;
        }
    }
    return n;
}

/* The loaded cache with this run's set replaced: every op this mode decides. */
static void fill_cache(const Tuner *t, MbnTuneCache *c) {
    *c = t->kept;
    const MbnArch *a = &t->cfg->arch;
    memset(c->op[t->use], 0, sizeof c->op[t->use]);
    for (int op = 0; op < MBN_OP_COUNT; op++) {
        if (!t->tuned_op[op]) continue;
        MbnTunedOp *o = &c->op[t->use][op];
        memset(o, 0, sizeof *o);
        o->set = true;
        snprintf(o->row, sizeof o->row, "%s", t->best_plan.row[op]->name);
        o->n = t->best_plan.row[op]->n_params;
        for (int k = 0; k < o->n; k++) {
            snprintf(o->param[k], sizeof o->param[k], "%s", t->best_plan.row[op]->params[k].name);
            o->value[k] = t->best_plan.value[op][k];
        }
        char label[32];
        mbn_arch_label(a, label, sizeof label);
        snprintf(o->workload, sizeof o->workload, "%s %s batch %d",
                 t->cfg->train ? "train" : "infer", label, t->cfg->batch);
    }
    c->n_clblast = t->n_clblast;
    memcpy(c->clblast, t->clblast, sizeof t->clblast);
}

/* Ops that only inference runs (training keeps every activation for backward). */
static bool infer_only(int op) {
    return op == MBN_OP_STEM_FWD || op == MBN_OP_DWPW_FWD;
}

static int setup(Tuner *t) {
    const MbnTuneConfig *cfg = t->cfg;
    int B = cfg->batch;
    size_t n_in = (size_t)B * cfg->arch.resolution * cfg->arch.resolution * 3;
    t->n_classes = cfg->arch.num_classes;
    t->x = malloc(n_in * sizeof *t->x);
    t->labels = malloc((size_t)B * sizeof *t->labels);
    t->ref_logits = malloc((size_t)B * t->n_classes * sizeof(float));
    t->out_logits = malloc((size_t)B * t->n_classes * sizeof(float));
    if (!t->x || !t->labels || !t->ref_logits || !t->out_logits)
        return mbn_fail(MBN_EFAIL, "out of host memory");
    MbnRng rng;
    mbn_rng_seed(&rng, 1);
    for (size_t i = 0; i < n_in; i++)
        t->x[i] = (float)mbn_rng_normal(&rng);
    for (int i = 0; i < B; i++)
        t->labels[i] = (int32_t)(mbn_rng_next(&rng) % (uint64_t)t->n_classes);
    for (int op = 0; op < MBN_OP_COUNT; op++)
        t->tuned_op[op] = cfg->train ? !infer_only(op)
                                     : op == MBN_OP_DW_FWD || op == MBN_OP_GEMM || infer_only(op);
    t->use = cfg->train ? MBN_USE_TRAIN : MBN_USE_INFER;
    /* An earlier run's decisions stay: the other mode's set, and for the ops this mode does not
     * exercise; its CLBlast parameters are searched again only when CLBlast matters
     * (tune_clblast.c). */
    if (mbn_tune_cache_load(cfg->info, &t->kept) != 1) memset(&t->kept, 0, sizeof t->kept);
    /* The default plan: what the device runs without a tuning cache (the auto family's plan
     * with the shipped database's decisions, tune/open.h), CLBlast's parameters included. */
    MbnVariantSet *set = malloc(sizeof *set);
    MbnTuning *base = malloc(sizeof *base);
    int rc = set && base ? mbn_tuning_baseline(cfg->info, t->use, set, base)
                         : mbn_fail(MBN_EFAIL, "out of host memory");
    for (int op = 0; rc == MBN_OK && op < MBN_OP_COUNT; op++) {
        t->default_plan.row[op] = set->op[op].row;
        memcpy(t->default_plan.value[op], set->op[op].value, sizeof set->op[op].value);
    }
    if (rc == MBN_OK) {
        t->n_clblast = base->n_clblast;
        memcpy(t->clblast, base->clblast, sizeof t->clblast);
        for (int k = 0; k < t->kept.n_clblast; k++)
            mbn_tune_put_clblast(t, &t->kept.clblast[k]);
    }
    free(set);
    free(base);
    MBN_TRY(rc);
    t->best_plan = t->default_plan;
    /* Where the GEMMs run through CLBlast by default (GPUs), its parameters get 40% of the
     * budget; elsewhere CLBlast only sees small GEMMs and the variants get it all. */
    bool clblast_gemm = strcmp(t->default_plan.row[MBN_OP_GEMM]->kernels, "clblast") == 0;
    t->variant_deadline = t->t0 + cfg->budget_s * (clblast_gemm ? 0.6 : 1.0);
    return MBN_OK;
}

static void teardown(Tuner *t) {
    rig_close(t->best);
    free(t->x);
    free(t->labels);
    free(t->ref_logits);
    free(t->out_logits);
    free(t->ref_grads);
    free(t->out_grads);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static bool same_plan(const Tuner *t, const TunePlan *a, const TunePlan *b) {
    for (int op = 0; op < MBN_OP_COUNT; op++) {
        if (!t->tuned_op[op]) continue;
        if (a->row[op] != b->row[op]) return false;
        for (int k = 0; k < a->row[op]->n_params; k++)
            if (a->value[op][k] != b->value[op][k]) return false;
    }
    return true;
}

/* The default against the winner, alternating, FINAL_PAIRS samples each: the report's figures,
 * and the last word: a winner that is not faster than the default here is not kept (single
 * races on shared cores can crown a candidate by luck). */
static int final_comparison(Tuner *t) {
    snprintf(t->trying, sizeof t->trying, "default against the winner");
    t->st.stage = "final";
    report_progress(t);
    if (same_plan(t, &t->best_plan, &t->default_plan)) {
        double m = INFINITY;
        for (int i = 0; i < FINAL_PAIRS; i++)
            MBN_TRY(timed_step(t, t->best, &m));
        t->rep->default_ms = t->rep->tuned_ms = m;
        return MBN_OK;
    }
    TuneRig *d = NULL;
    int rc = rig_open(t, &t->default_plan, &d);
    if (rc == MBN_OK) {
        bool agree;
        rc = rig_check(t, d, &agree);
    }
    /* FINAL_PAIRS samples each at least, and on until each side had about 2 s of steps (a
     * single disturbed sample pair must not decide the report). */
    double ds[40], ts[40], t_start = mbn_now();
    int ns = 0;
    for (; rc == MBN_OK && ns < 40 && (ns < FINAL_PAIRS || mbn_now() - t_start < 4.0); ns++) {
        ds[ns] = ts[ns] = INFINITY;
        rc = timed_step(t, d, &ds[ns]);
        if (rc == MBN_OK) rc = timed_step(t, t->best, &ts[ns]);
    }
    rig_close(d);
    if (rc != MBN_OK) return rc;
    /* The noise of these timings: how far the default's median sample is above its fastest. A
     * winner must beat the default's fastest by more than that (and by 1% at least). */
    qsort(ds, (size_t)ns, sizeof ds[0], cmp_double);
    qsort(ts, (size_t)ns, sizeof ts[0], cmp_double);
    double md = ds[0], mt = ts[0], noise = ds[ns / 2] / ds[0] - 1.0;
    double margin = noise > 0.01 ? noise : 0.01;
    t->rep->noise = noise;
    note(t, "final: default %.2f ms/step, tuned %.2f ms/step (noise %.1f%%)", md, mt,
         100.0 * noise);
    if (!(mt < md * (1.0 - margin))) {
        note(t, "the winner is not faster than the default by more than the noise in the final "
                "comparison: keeping the default kernels");
        t->best_plan = t->default_plan;
        mt = md;
    }
    t->rep->default_ms = md;
    t->rep->tuned_ms = mt;
    return MBN_OK;
}

int mbn_tune_run(const MbnTuneConfig *cfg, MbnTuneReport *rep) {
    memset(rep, 0, sizeof *rep);
    Tuner *t = calloc(1, sizeof *t);
    if (!t) return mbn_fail(MBN_EFAIL, "out of host memory");
    t->cfg = cfg;
    t->rep = rep;
    t->t0 = mbn_now();
    t->deadline = t->t0 + cfg->budget_s;
    t->st.budget_s = cfg->budget_s;
    t->st.stage = "variants";
    int rc = setup(t);
    if (rc == MBN_OK) {
        t->st.planned = count_candidates(t);
        snprintf(t->trying, sizeof t->trying, "the default (reference)");
        report_progress(t);
        double t_open = mbn_now();
        rc = rig_open(t, &t->best_plan, &t->best);
        t->open_s = mbn_now() - t_open;
    }
    if (rc == MBN_OK && cfg->train) {
        t->ref_grads = malloc(t->best->net.param_floats * sizeof(float));
        t->out_grads = malloc(t->best->net.param_floats * sizeof(float));
        if (!t->ref_grads || !t->out_grads) rc = mbn_fail(MBN_EFAIL, "out of host memory");
    }
    if (rc == MBN_OK) rc = reference(t, t->best);
    if (rc == MBN_OK) {
        double m = INFINITY;
        for (int i = 0; rc == MBN_OK && i < PAIRS; i++)
            rc = timed_step(t, t->best, &m);
        t->st.best_ms = m;
        m = INFINITY; /* again with samples sized for this step */
        for (int i = 0; rc == MBN_OK && i < PAIRS; i++)
            rc = timed_step(t, t->best, &m);
        t->st.default_ms = t->st.best_ms = m;
        note(t, "default: %.2f ms/step", m);
    }
    if (rc == MBN_OK) rc = search_variants(t);
    if (rc == MBN_OK) rc = mbn_tune_search_clblast(t);
    if (rc == MBN_OK) rc = final_comparison(t);
    if (rc == MBN_OK) {
        fill_cache(t, &rep->cache);
        /* Only a measured win is stored: nothing faster than the defaults leaves the cache as
         * it was (a cache that only restates the defaults would still mark runs as tuned). */
        rep->saved = !same_plan(t, &t->best_plan, &t->default_plan) || t->clblast_changed ||
                     getenv("MBN_TUNE_TEST_STORE"); /* tests of the cache: store regardless */
        if (rep->saved) rc = mbn_tune_cache_save(cfg->info, &rep->cache);
    }
    teardown(t);
    free(t);
    return rc;
}
