/* mbn tune, CLBlast stage: parameters of CLBlast's two GEMM kernels (Xgemm, the indirect one
 * with pre/post-processing kernels; XgemmDirect) and the size at which CLBlast switches from
 * the direct to the indirect one (GemmRoutine XGEMM_MIN_INDIRECT_SIZE), set through
 * CLBlastOverrideParameters.
 *
 * The GEMMs one step of the best configuration issues through CLBlast are recorded (shapes,
 * transposes, batch counts) and replayed on random operands: that replay is what a candidate
 * is timed and checked on (each output within 2e-3 of its largest magnitude of the baseline's
 * output: CLBlast's kernels sum K in different orders for different tiles). The stage runs only
 * when the replay takes at least 5% of a step: on CPUs mbn's own GEMMs do the heavy work and a
 * CLBlast compile costs tens of seconds there. CLBlast keeps overrides per device for the whole
 * process and offers no way to read its defaults back, so the baseline is timed first and the
 * stage runs last. */
#include <clblast_c.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/error.h"
#include "base/rng.h"
#include "host/blas.h"
#include "host/cl_error.h"
#include "tune/search_internal.h"

#define MIN_SHARE 0.05      /* below this share of a step, CLBlast is not worth a search */
#define CL_MARGIN 0.03      /* replay timings are not interleaved: a larger margin */
#define MAX_CANDIDATES 48   /* per kernel */
#define ALL_CANDIDATES 1024 /* room for every valid combination */

typedef struct {
    MbnGemmCall call;
    int count;                           /* how often a step issues it */
    float *ref;                          /* the baseline's output */
    size_t a_floats, b_floats, c_floats; /* per matrix */
} Shape;

typedef struct {
    Tuner *t;
    MbnDevice *dev;
    Shape shapes[MBN_GEMM_LOG_MAX];
    int n_shapes;
    cl_mem a, b, c;
    float *out;
    double best_ms;
} Replay;

static void shape_sizes(Shape *s) {
    const MbnGemmCall *g = &s->call;
    s->a_floats = g->m * g->k;
    s->b_floats = g->k * g->n;
    s->c_floats = g->m * g->n;
}

static int run_one(Replay *r, const Shape *s) {
    const MbnGemmCall *g = &s->call;
    size_t lda = g->trans_a ? g->m : g->k, ldb = g->trans_b ? g->k : g->n, ldc = g->n;
    CLBlastTranspose ta = g->trans_a ? CLBlastTransposeYes : CLBlastTransposeNo;
    CLBlastTranspose tb = g->trans_b ? CLBlastTransposeYes : CLBlastTransposeNo;
    CLBlastStatusCode st;
    if (g->batch > 1)
        st = CLBlastSgemmStridedBatched(CLBlastLayoutRowMajor, ta, tb, g->m, g->n, g->k, 1.0f, r->a,
                                        0, lda, s->a_floats, r->b, 0, ldb, s->b_floats, 0.0f, r->c,
                                        0, ldc, s->c_floats, g->batch, &r->dev->queue, NULL);
    else
        st = CLBlastSgemm(CLBlastLayoutRowMajor, ta, tb, g->m, g->n, g->k, 1.0f, r->a, 0, lda, r->b,
                          0, ldb, 0.0f, r->c, 0, ldc, &r->dev->queue, NULL);
    if (st != CLBlastSuccess)
        return mbn_fail(MBN_EFAIL, "CLBlast SGEMM %zux%zux%zu x%zu: %s", g->m, g->n, g->k, g->batch,
                        mbn_clblast_error_name(st));
    return MBN_OK;
}

/* One pass over the step's GEMMs: checked (first call of each shape read back and compared, or
 * stored as the reference) or timed (wall clock, every call as often as a step makes it). */
static int replay(Replay *r, bool store_ref, bool *agree, double *ms) {
    if (agree) *agree = true;
    if (agree || store_ref) {
        for (int i = 0; i < r->n_shapes; i++) {
            Shape *s = &r->shapes[i];
            MBN_TRY(run_one(r, s));
            size_t n = s->c_floats * s->call.batch;
            float *dst = store_ref ? s->ref : r->out;
            MBN_CL_CHECK(clEnqueueReadBuffer(r->dev->queue, r->c, CL_TRUE, 0, n * sizeof(float),
                                             dst, 0, NULL, NULL),
                         "reading a GEMM result");
            if (agree && !mbn_tune_outputs_agree(r->out, s->ref, n, 2e-3)) *agree = false;
        }
        return MBN_OK;
    }
    double t0 = mbn_now();
    for (int i = 0; i < r->n_shapes; i++)
        for (int c = 0; c < r->shapes[i].count; c++)
            MBN_TRY(run_one(r, &r->shapes[i]));
    MBN_CL_CHECK(clFinish(r->dev->queue), "clFinish");
    *ms = (mbn_now() - t0) * 1000.0;
    return MBN_OK;
}

static int timed(Replay *r, int reps, double *best) {
    *best = INFINITY;
    for (int i = 0; i < reps; i++) {
        double ms = 0;
        MBN_TRY(replay(r, false, NULL, &ms));
        if (ms < *best) *best = ms;
    }
    return MBN_OK;
}

static int record(Replay *r) {
    Tuner *t = r->t;
    MbnGemmLog *log = calloc(1, sizeof *log);
    if (!log) return mbn_fail(MBN_EFAIL, "out of host memory");
    r->dev->gemm_log = log;
    MbnNet *net = &t->best->net;
    int rc = mbn_net_forward(net, t->cfg->batch, t->cfg->train);
    if (rc == MBN_OK && t->cfg->train) rc = mbn_net_backward(net, t->labels, t->cfg->batch, 0.1f);
    if (rc == MBN_OK) rc = clFinish(r->dev->queue) == CL_SUCCESS ? MBN_OK : MBN_EFAIL;
    r->dev->gemm_log = NULL;
    for (int i = 0; rc == MBN_OK && i < log->n; i++) {
        MbnGemmCall g = log->calls[i];
        g.beta = 0;
        int j = 0;
        while (j < r->n_shapes && memcmp(&r->shapes[j].call, &g, sizeof g) != 0)
            j++;
        if (j == r->n_shapes) {
            r->shapes[j].call = g;
            shape_sizes(&r->shapes[j]);
            r->n_shapes++;
        }
        r->shapes[j].count++;
    }
    free(log);
    return rc;
}

static int alloc_operands(Replay *r) {
    size_t na = 1, nb = 1, nc = 1;
    for (int i = 0; i < r->n_shapes; i++) {
        Shape *s = &r->shapes[i];
        size_t B = s->call.batch;
        if (s->a_floats * B > na) na = s->a_floats * B;
        if (s->b_floats * B > nb) nb = s->b_floats * B;
        if (s->c_floats * B > nc) nc = s->c_floats * B;
        s->ref = malloc(s->c_floats * B * sizeof(float));
        if (!s->ref) return mbn_fail(MBN_EFAIL, "out of host memory");
    }
    r->out = malloc(nc * sizeof(float));
    float *host = malloc((na > nb ? na : nb) * sizeof(float));
    if (!r->out || !host) {
        free(host);
        return mbn_fail(MBN_EFAIL, "out of host memory");
    }
    MbnRng rng;
    mbn_rng_seed(&rng, 7);
    cl_int err = CL_SUCCESS;
    cl_mem *bufs[3] = {&r->a, &r->b, &r->c};
    size_t sizes[3] = {na, nb, nc};
    for (int k = 0; k < 3 && err == CL_SUCCESS; k++) {
        *bufs[k] = clCreateBuffer(r->dev->context, CL_MEM_READ_WRITE, sizes[k] * sizeof(float),
                                  NULL, &err);
        if (err == CL_SUCCESS && k < 2) {
            for (size_t i = 0; i < sizes[k]; i++)
                host[i] = (float)mbn_rng_normal(&rng);
            err = clEnqueueWriteBuffer(r->dev->queue, *bufs[k], CL_TRUE, 0,
                                       sizes[k] * sizeof(float), host, 0, NULL, NULL);
        }
    }
    free(host);
    if (err != CL_SUCCESS) return mbn_fail_cl(err, "GEMM replay operands");
    return MBN_OK;
}

static void free_replay(Replay *r) {
    for (int i = 0; i < r->n_shapes; i++)
        free(r->shapes[i].ref);
    free(r->out);
    if (r->a) clReleaseMemObject(r->a);
    if (r->b) clReleaseMemObject(r->b);
    if (r->c) clReleaseMemObject(r->c);
}

/* ---- candidates ---- */

static void set_param(MbnClblastParams *s, const char *name, size_t v) {
    snprintf(s->name[s->n], sizeof s->name[0], "%s", name);
    s->value[s->n++] = v;
}

/* Xgemm with 2D register tiles (GEMMK 0, KREG 1), square thread layouts for loading
 * (MDIMA = MDIMC, NDIMB = NDIMC), under CLBlast's divisibility rules. CPUs: small work-groups
 * (PoCL vectorises across work-items, SPEC 6); GPUs: 64-256 work-items. */
static int xgemm_candidates(const MbnDeviceInfo *info, MbnClblastParams *out, int max) {
    bool gpu = (info->type & CL_DEVICE_TYPE_GPU) != 0;
    static const int dims_cpu[] = {2, 4}, dims_gpu[] = {8, 16};
    const int *dims = gpu ? dims_gpu : dims_cpu;
    static const int wg[] = {32, 64, 128}, vw[] = {1, 2, 4, 8}, kwg[] = {16, 32};
    int n = 0;
    for (int sa = 0; sa <= (gpu ? 1 : 0); sa++)
        for (int di = 0; di < 2; di++)
            for (int dj = 0; dj < 2; dj++)
                for (int mi = 0; mi < 3; mi++)
                    for (int ni = 0; ni < 3; ni++)
                        for (int vi = 0; vi < 4; vi++)
                            for (int vj = 0; vj < 4; vj++)
                                for (int ki = 0; ki < 2; ki++) {
                                    int MD = dims[di], ND = dims[dj], MW = wg[mi], NW = wg[ni];
                                    int VM = vw[vi], VN = vw[vj], KW = kwg[ki];
                                    if (MW % (MD * VM) || NW % (ND * VN) || KW % MD || KW % ND)
                                        continue;
                                    if ((size_t)(MD * ND) > info->max_work_group) continue;
                                    if ((MW / MD) * (NW / ND) > 64) continue; /* registers */
                                    size_t lmem = (size_t)sa * KW * (MW + NW) * 4;
                                    if (lmem > info->local_mem_bytes / 2) continue;
                                    if (n == max) continue;
                                    MbnClblastParams *s = &out[n++];
                                    memset(s, 0, sizeof *s);
                                    snprintf(s->kernel, sizeof s->kernel, "Xgemm");
                                    set_param(s, "GEMMK", 0);
                                    set_param(s, "KREG", 1);
                                    set_param(s, "KWG", KW);
                                    set_param(s, "KWI", 2);
                                    set_param(s, "MDIMA", MD);
                                    set_param(s, "MDIMC", MD);
                                    set_param(s, "MWG", MW);
                                    set_param(s, "NDIMB", ND);
                                    set_param(s, "NDIMC", ND);
                                    set_param(s, "NWG", NW);
                                    set_param(s, "SA", sa);
                                    set_param(s, "SB", sa);
                                    set_param(s, "STRM", 0);
                                    set_param(s, "STRN", 0);
                                    set_param(s, "VWM", VM);
                                    set_param(s, "VWN", VN);
                                }
    return n;
}

static int direct_candidates(const MbnDeviceInfo *info, MbnClblastParams *out, int max) {
    bool gpu = (info->type & CL_DEVICE_TYPE_GPU) != 0;
    static const int dims_cpu[] = {2, 4}, dims_gpu[] = {8, 16};
    const int *dims = gpu ? dims_gpu : dims_cpu;
    static const int wgd[] = {8, 16, 32, 64}, vw[] = {1, 2, 4, 8};
    int n = 0;
    for (int wi = 0; wi < 4; wi++)
        for (int di = 0; di < 2; di++)
            for (int dj = 0; dj < 2; dj++)
                for (int vi = 0; vi < 4; vi++)
                    for (int vj = 0; vj < 4; vj++) {
                        int W = wgd[wi], MD = dims[di], ND = dims[dj], VM = vw[vi], VN = vw[vj];
                        if (W % (MD * VM) || W % (ND * VN) || W % MD || W % ND || W % 2) continue;
                        if ((size_t)(MD * ND) > info->max_work_group) continue;
                        if ((W / MD) * (W / ND) > 64) continue;
                        if ((size_t)2 * W * (W + 1) * 4 > info->local_mem_bytes / 2) continue;
                        if (n == max) continue;
                        MbnClblastParams *s = &out[n++];
                        memset(s, 0, sizeof *s);
                        snprintf(s->kernel, sizeof s->kernel, "XgemmDirect");
                        set_param(s, "KWID", 2);
                        set_param(s, "MDIMAD", MD);
                        set_param(s, "MDIMCD", MD);
                        set_param(s, "NDIMBD", ND);
                        set_param(s, "NDIMCD", ND);
                        set_param(s, "PADA", 1);
                        set_param(s, "PADB", 1);
                        set_param(s, "VWMD", VM);
                        set_param(s, "VWND", VN);
                        set_param(s, "WGD", W);
                    }
    return n;
}

static void shuffle(MbnClblastParams *s, int n, uint64_t seed) {
    MbnRng rng;
    mbn_rng_seed(&rng, seed);
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(mbn_rng_next(&rng) % (uint64_t)(i + 1));
        MbnClblastParams tmp = s[i];
        s[i] = s[j];
        s[j] = tmp;
    }
}

void mbn_tune_put_clblast(Tuner *t, const MbnClblastParams *s) {
    for (int i = 0; i < t->n_clblast; i++)
        if (strcmp(t->clblast[i].kernel, s->kernel) == 0) {
            t->clblast[i] = *s;
            return;
        }
    if (t->n_clblast < MBN_TUNE_MAX_CLBLAST) t->clblast[t->n_clblast++] = *s;
}

static void describe_set(const MbnClblastParams *s, char *out, size_t len) {
    size_t used = (size_t)snprintf(out, len, "%s", s->kernel);
    for (int p = 0; p < s->n && used < len; p++)
        used += (size_t)snprintf(out + used, len - used, " %s=%zu", s->name[p], s->value[p]);
}

static bool time_left(Tuner *t, double per_candidate_s) {
    if (mbn_now() + per_candidate_s <= t->deadline) return true;
    t->rep->budget_ran_out = true;
    return false;
}

static int try_set(Replay *r, const MbnClblastParams *s) {
    Tuner *t = r->t;
    describe_set(s, t->trying, sizeof t->trying);
    t->st.elapsed_s = mbn_now() - t->t0;
    t->st.trying = t->trying;
    if (t->cfg->progress) t->cfg->progress(t->cfg->progress_ctx, &t->st);
    t->rep->tried++;
    t->st.done++;
    int rc = mbn_tune_apply_clblast(&r->dev->info, s, 1);
    bool agree = false;
    double ms = INFINITY;
    if (rc == MBN_OK) rc = replay(r, false, &agree, NULL); /* compiles, then checks */
    if (rc == MBN_OK && agree) rc = timed(r, 2, &ms);
    const char *verdict = "";
    if (rc != MBN_OK) {
        t->rep->failed++;
        verdict = "failed";
    } else if (!agree) {
        t->rep->rejected_wrong++;
        verdict = "rejected (outputs differ)";
    }
    bool won = rc == MBN_OK && agree && ms < r->best_ms * (1.0 - CL_MARGIN);
    if (!t->cfg->quiet) {
        if (*verdict)
            fprintf(stderr, "mbn: tune: %s: %s%s%s\n", t->trying, verdict, rc ? ": " : "",
                    rc ? mbn_last_error() : "");
        else
            fprintf(stderr, "mbn: tune: %s: %.2f ms of GEMMs per step against %.2f%s\n", t->trying,
                    ms, r->best_ms, won ? ": new best" : "");
    }
    mbn_clear_error();
    if (won) {
        r->best_ms = ms;
        mbn_tune_put_clblast(t, s);
        t->clblast_changed = true;
    }
    /* Back to the best set of that family, whatever happened. */
    for (int i = 0; i < t->n_clblast; i++)
        if (strcmp(t->clblast[i].kernel, s->kernel) == 0)
            return mbn_tune_apply_clblast(&r->dev->info, &t->clblast[i], 1);
    return MBN_OK;
}

int mbn_tune_search_clblast(Tuner *t) {
    Replay *r = calloc(1, sizeof *r);
    if (!r) return mbn_fail(MBN_EFAIL, "out of host memory");
    r->t = t;
    r->dev = &t->best->dev;
    t->st.stage = "clblast";
    int rc = record(r);
    if (rc == MBN_OK && r->n_shapes == 0) {
        free(r);
        t->rep->clblast_share = 0;
        return MBN_OK;
    }
    if (rc == MBN_OK) rc = alloc_operands(r);
    if (rc == MBN_OK) rc = replay(r, true, NULL, NULL); /* also compiles the current kernels */
    if (rc == MBN_OK) rc = timed(r, 3, &r->best_ms);
    if (rc == MBN_OK) {
        t->rep->clblast_share = r->best_ms / t->st.best_ms;
        if (!t->cfg->quiet)
            fprintf(stderr,
                    "mbn: tune: CLBlast GEMMs: %d shape(s), %.2f ms of a %.2f ms step (%.0f%%)%s\n",
                    r->n_shapes, r->best_ms, t->st.best_ms, 100.0 * t->rep->clblast_share,
                    t->rep->clblast_share < MIN_SHARE &&
                            !(getenv("MBN_TUNE_CLBLAST") &&
                              strcmp(getenv("MBN_TUNE_CLBLAST"), "always") == 0)
                        ? ": not worth a search"
                        : "");
    }
    /* MBN_TUNE_CLBLAST=always searches whatever the share (tests; CPUs with CLBlast rows). */
    const char *force = getenv("MBN_TUNE_CLBLAST");
    bool always = force && strcmp(force, "always") == 0;
    if (rc != MBN_OK || (t->rep->clblast_share < MIN_SHARE && !always)) {
        free_replay(r);
        free(r);
        return rc;
    }
    t->rep->clblast_searched = true;
    /* Every valid combination, shuffled with a fixed seed, the first MAX_CANDIDATES of each
     * kernel tried: a budget that covers part of the list samples all of it evenly. */
    MbnClblastParams *cands = calloc(2 * ALL_CANDIDATES, sizeof *cands);
    if (!cands) rc = mbn_fail(MBN_EFAIL, "out of host memory");
    int nx = 0, nd = 0;
    if (rc == MBN_OK) {
        nx = xgemm_candidates(&r->dev->info, cands, ALL_CANDIDATES);
        shuffle(cands, nx, 1);
        nd = direct_candidates(&r->dev->info, cands + ALL_CANDIDATES, ALL_CANDIDATES);
        shuffle(cands + ALL_CANDIDATES, nd, 2);
        if (nx > MAX_CANDIDATES) nx = MAX_CANDIDATES;
        if (nd > MAX_CANDIDATES) nd = MAX_CANDIDATES;
        t->st.planned = t->st.done + nx + nd + 8;
    }
    /* The compile time of the first candidate is the unknown: budget with the last one. */
    double per = 0;
    for (int i = 0; rc == MBN_OK && i < nx + nd; i++) {
        /* Alternate the two kernels, so a budget that ends early has tried both. */
        int k = i / 2;
        const MbnClblastParams *s = (i % 2 == 0) ? (k < nx ? &cands[k] : NULL)
                                                 : (k < nd ? &cands[ALL_CANDIDATES + k] : NULL);
        if (!s) continue;
        if (!time_left(t, per)) break;
        double t0 = mbn_now();
        rc = try_set(r, s);
        per = mbn_now() - t0;
    }
    /* The direct/indirect switch, with the kernels chosen: m*n*k below size^3 runs direct. */
    static const size_t sizes[] = {1, 128, 256, 384, 512, 768, 1024, 1 << 20};
    for (size_t i = 0; rc == MBN_OK && i < sizeof sizes / sizeof sizes[0]; i++) {
        if (!time_left(t, per)) break;
        MbnClblastParams s;
        memset(&s, 0, sizeof s);
        snprintf(s.kernel, sizeof s.kernel, "GemmRoutine");
        set_param(&s, "XGEMM_MIN_INDIRECT_SIZE", sizes[i]);
        double t0 = mbn_now();
        rc = try_set(r, &s);
        per = mbn_now() - t0;
    }
    free(cands);
    free_replay(r);
    free(r);
    /* The whole network under the chosen parameters must still give the reference outputs. */
    if (rc == MBN_OK && t->clblast_changed) rc = mbn_tune_check_plan(t, &t->best_plan);
    return rc;
}
