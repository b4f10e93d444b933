/* Validates the oracle itself (no OpenCL): every backward in tests/support/ref.c against
 * central finite differences of the matching forward, in double precision.
 *
 * For an op y = f(p) we take the scalar L = sum(r * y) with fixed random r, so dL/dy = r is what
 * the backward receives, and compare dL/dp from the backward with (L(p+h) - L(p-h)) / 2h for
 * every element p of every input. Linear ops (convs, GEMMs, pooling) have no truncation error,
 * so only rounding remains: |err| ~ eps_double * |L| / h ~ 1e-16 * 10 / 1e-5 = 1e-10; we allow
 * 1e-7 * max(1, |grad|). BN and the softmax cross-entropy are smooth away from the ReLU6 kinks
 * (inputs are drawn so that no bn output lies within 1e-3 of 0 or 6, and h = 1e-6 moves it by
 * far less), truncation error O(h^2 * f''') ~ 1e-10; same tolerance.
 *
 * Also checks forward identities the device tests rely on: the direct stem conv equals
 * im2col patches x weight^T, BN folding matches BN with running statistics, BN training output
 * has the batch statistics it claims, and the smoothed cross-entropy on a hand-computed case. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/ref.h"
#include "tests/support/testutil.h"

#define H_STEP 1e-6
#define GC_RTOL 1e-7

typedef double (*LossFn)(void *ctx);

/* Compares analytic[i] with the central difference of loss() in param[i], for all i < n. */
static void gradcheck(const char *what, double *param, size_t n, const double *analytic,
                      LossFn loss, void *ctx) {
    double *num = T_NEW(double, n);
    for (size_t i = 0; i < n; i++) {
        double keep = param[i];
        param[i] = keep + H_STEP;
        double lp = loss(ctx);
        param[i] = keep - H_STEP;
        double lm = loss(ctx);
        param[i] = keep;
        num[i] = (lp - lm) / (2 * H_STEP);
    }
    /* tcheck compares float "got" with double "want": here both are doubles, so compare by
     * hand with the same reporting. */
    size_t bad = 0, worst = 0;
    double worst_ratio = -1;
    for (size_t i = 0; i < n; i++) {
        double allowed = GC_RTOL * fmax(1.0, fabs(num[i]));
        double ratio = fabs(analytic[i] - num[i]) / allowed;
        if (!(ratio <= 1.0)) bad++;
        if (ratio > worst_ratio || isnan(ratio)) {
            worst_ratio = ratio;
            worst = i;
        }
    }
    printf("%s gradcheck %-30s n=%-5zu worst [%zu] analytic %.12g numeric %.12g (%.3f)\n",
           bad ? "FAIL" : "ok  ", what, n, worst, analytic[worst], num[worst], worst_ratio);
    T_CHECK(bad == 0, "%s: %zu of %zu gradient elements disagree", what, bad, n);
    /* A gradcheck that compares zeros with zeros proves nothing. */
    double mx = 0;
    for (size_t i = 0; i < n; i++)
        mx = fmax(mx, fabs(analytic[i]));
    T_CHECK(mx > 1e-3, "%s: gradient is all ~zero (%g)", what, mx);
    free(num);
}

static double dot(const double *a, const double *b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

static double *rnd(MbnRng *r, size_t n, double lo, double hi) {
    double *d = T_NEW(double, n);
    for (size_t i = 0; i < n; i++)
        d[i] = lo + (hi - lo) * mbn_rng_uniform(r);
    return d;
}

/* ---- stem ---- */
typedef struct {
    double *x, *w, *r, *z;
    int N, H, W, Cout, s;
} StemCtx;

static double stem_loss(void *p) {
    StemCtx *c = p;
    ref_stem_fwd(c->x, c->w, c->z, c->N, c->H, c->W, c->Cout, c->s);
    int Ho = ref_out(c->H, c->s), Wo = ref_out(c->W, c->s);
    return dot(c->r, c->z, (size_t)c->N * Ho * Wo * c->Cout);
}

static void check_stem(MbnRng *rng, int N, int H, int W, int Cout, int s) {
    int Ho = ref_out(H, s), Wo = ref_out(W, s);
    size_t M = (size_t)N * Ho * Wo, nx = (size_t)N * H * W * 3;
    StemCtx c = {rnd(rng, nx, -1, 1),
                 rnd(rng, (size_t)Cout * 27, -1, 1),
                 rnd(rng, M * Cout, -1, 1),
                 T_NEW(double, M *Cout),
                 N,
                 H,
                 W,
                 Cout,
                 s};
    double *dw = T_NEW(double, (size_t)Cout * 27), *dx = T_NEW(double, nx);
    ref_stem_bwd_weight(c.x, c.r, dw, N, H, W, Cout, s);
    ref_stem_bwd_input(c.r, c.w, dx, N, H, W, Cout, s);
    char what[64];
    snprintf(what, sizeof what, "stem w %dx%dx%d s%d", N, H, W, s);
    gradcheck(what, c.w, (size_t)Cout * 27, dw, stem_loss, &c);
    snprintf(what, sizeof what, "stem x %dx%dx%d s%d", N, H, W, s);
    gradcheck(what, c.x, nx, dx, stem_loss, &c);
    /* im2col layout: z == patches x w^T */
    double *patches = T_NEW(double, M * 27), *z2 = T_NEW(double, M *Cout);
    ref_stem_im2col(c.x, N, H, W, s, patches);
    ref_pw_fwd(patches, c.w, z2, M, 27, Cout);
    stem_loss(&c);
    double worst = 0;
    for (size_t i = 0; i < M * Cout; i++)
        worst = fmax(worst, fabs(z2[i] - c.z[i]));
    T_CHECK(worst < 1e-12, "stem: im2col x w^T differs from the direct conv by %g", worst);
    /* and the weight gradient is dz^T x patches */
    double *dw2 = T_NEW(double, (size_t)Cout * 27);
    ref_pw_bwd_weight(patches, c.r, dw2, M, 27, Cout);
    worst = 0;
    for (size_t i = 0; i < (size_t)Cout * 27; i++)
        worst = fmax(worst, fabs(dw2[i] - dw[i]));
    T_CHECK(worst < 1e-12, "stem: dz^T x patches differs from the direct weight grad by %g", worst);
    free(c.x), free(c.w), free(c.r), free(c.z), free(dw), free(dx), free(patches), free(z2),
        free(dw2);
}

/* ---- depthwise ---- */
typedef struct {
    double *x, *w, *r, *y;
    int N, H, W, C, s;
} DwCtx;

static double dw_loss(void *p) {
    DwCtx *c = p;
    ref_dw_fwd(c->x, c->w, NULL, c->y, c->N, c->H, c->W, c->C, c->s);
    int Ho = ref_out(c->H, c->s), Wo = ref_out(c->W, c->s);
    return dot(c->r, c->y, (size_t)c->N * Ho * Wo * c->C);
}

static void check_dw(MbnRng *rng, int N, int H, int W, int C, int s) {
    int Ho = ref_out(H, s), Wo = ref_out(W, s);
    size_t ny = (size_t)N * Ho * Wo * C, nx = (size_t)N * H * W * C;
    DwCtx c = {rnd(rng, nx, -1, 1),
               rnd(rng, 9 * (size_t)C, -1, 1),
               rnd(rng, ny, -1, 1),
               T_NEW(double, ny),
               N,
               H,
               W,
               C,
               s};
    double *dw = T_NEW(double, 9 * (size_t)C), *dx = T_NEW(double, nx);
    ref_dw_bwd_weight(c.x, c.r, dw, N, H, W, C, s);
    ref_dw_bwd_input(c.r, c.w, dx, N, H, W, C, s);
    char what[64];
    snprintf(what, sizeof what, "dw w %dx%dx%dx%d s%d", N, H, W, C, s);
    gradcheck(what, c.w, 9 * (size_t)C, dw, dw_loss, &c);
    snprintf(what, sizeof what, "dw x %dx%dx%dx%d s%d", N, H, W, C, s);
    gradcheck(what, c.x, nx, dx, dw_loss, &c);
    /* Spot-check the layout by hand: output (0,0,0,c) with padding reads taps 4,5,7,8 only. */
    double want = 0;
    int cc = C - 1;
    want += c.x[(0 * W + 0) * C + cc] * c.w[4 * C + cc];
    if (W > 1) want += c.x[(0 * W + 1) * C + cc] * c.w[5 * C + cc];
    if (H > 1) want += c.x[(1 * W + 0) * C + cc] * c.w[7 * C + cc];
    if (H > 1 && W > 1) want += c.x[(1 * W + 1) * C + cc] * c.w[8 * C + cc];
    dw_loss(&c);
    T_CHECK(fabs(c.y[cc] - want) < 1e-12, "dw corner output %g, by hand %g", c.y[cc], want);
    /* With a bias, the folded form clamps to [0, 6]. */
    double *b = rnd(rng, (size_t)C, -1, 1), *yb = T_NEW(double, ny);
    for (int i = 0; i < C; i++)
        b[i] *= 6;
    ref_dw_fwd(c.x, c.w, b, yb, N, H, W, C, s);
    int okb = 1;
    for (size_t i = 0; i < ny; i++) {
        double v = c.y[i] + b[i % C];
        v = v < 0 ? 0 : v > 6 ? 6 : v;
        okb &= fabs(v - yb[i]) < 1e-12;
    }
    T_CHECK(okb, "dw with bias is not clamp(dw + b, 0, 6)");
    free(c.x), free(c.w), free(c.r), free(c.y), free(dw), free(dx), free(b), free(yb);
}

/* ---- pointwise ---- */
typedef struct {
    double *x, *w, *r, *y;
    size_t M;
    int Cin, Cout;
} PwCtx;

static double pw_loss(void *p) {
    PwCtx *c = p;
    ref_pw_fwd(c->x, c->w, c->y, c->M, c->Cin, c->Cout);
    return dot(c->r, c->y, c->M * c->Cout);
}

static void check_pw(MbnRng *rng, size_t M, int Cin, int Cout) {
    PwCtx c = {rnd(rng, M * Cin, -1, 1),
               rnd(rng, (size_t)Cout * Cin, -1, 1),
               rnd(rng, M * Cout, -1, 1),
               T_NEW(double, M *Cout),
               M,
               Cin,
               Cout};
    double *dw = T_NEW(double, (size_t)Cout *Cin), *dx = T_NEW(double, M *Cin);
    ref_pw_bwd_weight(c.x, c.r, dw, M, Cin, Cout);
    ref_pw_bwd_input(c.r, c.w, dx, M, Cin, Cout);
    gradcheck("pw w", c.w, (size_t)Cout * Cin, dw, pw_loss, &c);
    gradcheck("pw x", c.x, M * Cin, dx, pw_loss, &c);
    free(c.x), free(c.w), free(c.r), free(c.y), free(dw), free(dx);
}

/* ---- BN + ReLU6 ---- */
typedef struct {
    double *z, *gamma, *beta, *r, *y;
    size_t M;
    int C;
} BnCtx;

static double bn_loss(void *p) {
    BnCtx *c = p;
    ref_bn_relu6_train(c->z, c->gamma, c->beta, NULL, NULL, 0.1, 1e-5, c->M, c->C, c->y, NULL,
                       NULL);
    return dot(c->r, c->y, c->M * c->C);
}

/* Smallest distance of any pre-clamp bn value to the kinks 0 and 6. */
static double kink_distance(const BnCtx *c) {
    double *mean = T_NEW(double, c->C), *is = T_NEW(double, c->C);
    ref_bn_relu6_train(c->z, c->gamma, c->beta, NULL, NULL, 0.1, 1e-5, c->M, c->C, c->y, mean, is);
    double d = INFINITY;
    for (size_t m = 0; m < c->M; m++)
        for (int k = 0; k < c->C; k++) {
            double t = c->gamma[k] * (c->z[m * c->C + k] - mean[k]) * is[k] + c->beta[k];
            d = fmin(d, fmin(fabs(t), fabs(t - 6)));
        }
    free(mean), free(is);
    return d;
}

static void check_bn(MbnRng *rng, size_t M, int C) {
    BnCtx c = {NULL, NULL, NULL, rnd(rng, M * C, -1, 1), T_NEW(double, M *C), M, C};
    for (int attempt = 0;; attempt++) {
        free(c.z), free(c.gamma), free(c.beta);
        c.z = rnd(rng, M * C, -2, 3);
        c.gamma = rnd(rng, (size_t)C, 0.5, 2.5);
        c.beta = rnd(rng, (size_t)C, -1, 5);
        c.gamma[0] = -c.gamma[0]; /* a negative gamma too */
        if (kink_distance(&c) > 1e-3) break;
        T_CHECK(attempt < 1000, "could not draw BN inputs away from the ReLU6 kinks");
        if (attempt >= 1000) return;
    }
    double *mean = T_NEW(double, C), *is = T_NEW(double, C), *dz = T_NEW(double, M *C),
           *dg = T_NEW(double, C), *db = T_NEW(double, C);
    ref_bn_relu6_train(c.z, c.gamma, c.beta, NULL, NULL, 0.1, 1e-5, M, C, c.y, mean, is);
    /* Some outputs must be clamped at each end and some not, or the mask is untested. */
    size_t lo = 0, hi = 0;
    for (size_t i = 0; i < M * C; i++)
        lo += c.y[i] == 0.0, hi += c.y[i] == 6.0;
    T_CHECK(lo > 0 && hi > 0 && lo + hi < M * C, "bn gradcheck data: %zu at 0, %zu at 6", lo, hi);
    ref_bn_relu6_bwd(c.r, c.z, c.gamma, c.beta, mean, is, M, C, dz, dg, db);
    gradcheck("bn_relu6 z", c.z, M * C, dz, bn_loss, &c);
    gradcheck("bn_relu6 gamma", c.gamma, (size_t)C, dg, bn_loss, &c);
    gradcheck("bn_relu6 beta", c.beta, (size_t)C, db, bn_loss, &c);

    /* Forward: the unclamped normalised values have mean beta and (biased) variance gamma^2
     * * var/(var+eps); running stats follow the stated update with the unbiased variance. */
    double *rm = rnd(rng, (size_t)C, -1, 1), *rv = rnd(rng, (size_t)C, 0.5, 2);
    double *rm0 = T_NEW(double, C), *rv0 = T_NEW(double, C);
    memcpy(rm0, rm, C * sizeof *rm), memcpy(rv0, rv, C * sizeof *rv);
    ref_bn_relu6_train(c.z, c.gamma, c.beta, rm, rv, 0.1, 1e-5, M, C, c.y, mean, is);
    for (int k = 0; k < C; k++) {
        double s = 0, s2 = 0;
        for (size_t m = 0; m < M; m++)
            s += c.z[m * C + k];
        double mu = s / M;
        for (size_t m = 0; m < M; m++)
            s2 += (c.z[m * C + k] - mu) * (c.z[m * C + k] - mu);
        T_CHECK(fabs(rm[k] - (0.9 * rm0[k] + 0.1 * mu)) < 1e-12, "running mean c=%d", k);
        T_CHECK(fabs(rv[k] - (0.9 * rv0[k] + 0.1 * s2 / (M - 1))) < 1e-12, "running var c=%d", k);
        T_CHECK(fabs(is[k] - 1 / sqrt(s2 / M + 1e-5)) < 1e-12, "invstd c=%d", k);
    }
    free(c.z), free(c.gamma), free(c.beta), free(c.r), free(c.y), free(mean), free(is), free(dz),
        free(dg), free(db), free(rm), free(rv), free(rm0), free(rv0);
}

/* BN folding: relu6(bn_eval(conv(x, w))) == clamp(conv(x, w_fold) + b, 0, 6), for a pointwise
 * weight (channel slowest) and a depthwise one (channel fastest). */
static void check_fold(MbnRng *rng) {
    int N = 2, H = 5, W = 4, Cin = 6, C = 5;
    size_t M = (size_t)N * H * W;
    double *x = rnd(rng, M * Cin, -1, 1), *gamma = rnd(rng, C, -2, 2), *beta = rnd(rng, C, -1, 3),
           *mean = rnd(rng, C, -1, 1), *var = rnd(rng, C, 0.1, 3);
    /* pointwise */
    double *w = rnd(rng, (size_t)C * Cin, -1, 1), *wf = T_NEW(double, (size_t)C *Cin),
           *b = T_NEW(double, C), *z = T_NEW(double, M *C), *y1 = T_NEW(double, M *C),
           *y2 = T_NEW(double, M *C);
    ref_pw_fwd(x, w, z, M, Cin, C);
    ref_bn_relu6_eval(z, gamma, beta, mean, var, 1e-5, M, C, y1);
    ref_bn_fold(w, gamma, beta, mean, var, 1e-5, C, Cin, 0, wf, b);
    ref_pw_fwd(x, wf, y2, M, Cin, C);
    ref_bias_relu6(y2, b, M, C);
    double worst = 0;
    for (size_t i = 0; i < M * C; i++)
        worst = fmax(worst, fabs(y1[i] - y2[i]));
    T_CHECK(worst < 1e-12, "bn fold (pw): %g", worst);
    /* depthwise, channels = C */
    double *xd = rnd(rng, M * C, -1, 1), *wd = rnd(rng, 9 * (size_t)C, -1, 1),
           *wdf = T_NEW(double, 9 * (size_t)C);
    ref_dw_fwd(xd, wd, NULL, z, N, H, W, C, 1);
    ref_bn_relu6_eval(z, gamma, beta, mean, var, 1e-5, M, C, y1);
    ref_bn_fold(wd, gamma, beta, mean, var, 1e-5, C, 9, 1, wdf, b);
    ref_dw_fwd(xd, wdf, b, y2, N, H, W, C, 1);
    worst = 0;
    for (size_t i = 0; i < M * C; i++)
        worst = fmax(worst, fabs(y1[i] - y2[i]));
    T_CHECK(worst < 1e-12, "bn fold (dw): %g", worst);
    printf("ok   bn fold identities checked\n");
    free(x), free(gamma), free(beta), free(mean), free(var), free(w), free(wf), free(b), free(z),
        free(y1), free(y2), free(xd), free(wd), free(wdf);
}

/* ---- FC ---- */
typedef struct {
    double *x, *w, *b, *r, *y;
    int N, C, K;
} FcCtx;

static double fc_loss(void *p) {
    FcCtx *c = p;
    ref_fc_fwd(c->x, c->w, c->b, c->y, c->N, c->C, c->K);
    return dot(c->r, c->y, (size_t)c->N * c->K);
}

static void check_fc(MbnRng *rng, int N, int C, int K) {
    FcCtx c = {rnd(rng, (size_t)N * C, -1, 1),
               rnd(rng, (size_t)K * C, -1, 1),
               rnd(rng, K, -1, 1),
               rnd(rng, (size_t)N * K, -1, 1),
               T_NEW(double, (size_t)N *K),
               N,
               C,
               K};
    double *dx = T_NEW(double, (size_t)N *C), *dw = T_NEW(double, (size_t)K *C),
           *db = T_NEW(double, K);
    ref_fc_bwd(c.x, c.w, c.r, dx, dw, db, N, C, K);
    gradcheck("fc x", c.x, (size_t)N * C, dx, fc_loss, &c);
    gradcheck("fc w", c.w, (size_t)K * C, dw, fc_loss, &c);
    gradcheck("fc b", c.b, K, db, fc_loss, &c);
    free(c.x), free(c.w), free(c.b), free(c.r), free(c.y), free(dx), free(dw), free(db);
}

/* ---- avgpool ---- */
typedef struct {
    double *x, *r, *y;
    int N, HW, C;
} PoolCtx;

static double pool_loss(void *p) {
    PoolCtx *c = p;
    ref_avgpool_fwd(c->x, c->y, c->N, c->HW, c->C);
    return dot(c->r, c->y, (size_t)c->N * c->C);
}

static void check_pool(MbnRng *rng, int N, int HW, int C) {
    PoolCtx c = {rnd(rng, (size_t)N * HW * C, -1, 1),
                 rnd(rng, (size_t)N * C, -1, 1),
                 T_NEW(double, (size_t)N *C),
                 N,
                 HW,
                 C};
    double *dx = T_NEW(double, (size_t)N *HW *C);
    ref_avgpool_bwd(c.r, dx, N, HW, C);
    gradcheck("avgpool x", c.x, (size_t)N * HW * C, dx, pool_loss, &c);
    free(c.x), free(c.r), free(c.y), free(dx);
}

/* ---- smoothed cross-entropy ---- */
typedef struct {
    double *logits;
    int32_t *labels;
    int N, K;
    double e;
} XentCtx;

static double xent_loss(void *p) {
    XentCtx *c = p;
    return ref_xent_smooth(c->logits, c->labels, c->N, c->K, c->e, NULL);
}

static void check_xent(MbnRng *rng, int N, int K, double e) {
    XentCtx c = {rnd(rng, (size_t)N * K, -3, 3), T_NEW(int32_t, N), N, K, e};
    for (int n = 0; n < N; n++)
        c.labels[n] = t_rand_int(rng, 0, K - 1);
    double *d = T_NEW(double, (size_t)N *K);
    ref_xent_smooth(c.logits, c.labels, N, K, e, d);
    char what[64];
    snprintf(what, sizeof what, "xent logits N%d K%d e%.2f", N, K, e);
    gradcheck(what, c.logits, (size_t)N * K, d, xent_loss, &c);
    for (int n = 0; n < N; n++) {
        double s = 0;
        for (int k = 0; k < K; k++)
            s += d[(size_t)n * K + k];
        T_CHECK(fabs(s) < 1e-12, "xent: dlogits row %d sums to %g, not 0", n, s);
    }
    free(c.logits), free(c.labels), free(d);
}

static void check_xent_by_hand(void) {
    /* logits (1, 2, 3), label 0, e = 0.1, K = 3: MindSpore's targets (0.9, 0.05, 0.05), not
     * PyTorch's label_smoothing (0.9333, 0.0333, 0.0333). */
    double x[3] = {1, 2, 3}, d[3];
    int32_t lab[1] = {0};
    double lse = log(exp(1.0) + exp(2.0) + exp(3.0));
    double want = -(0.9 * (1 - lse) + 0.05 * (2 - lse) + 0.05 * (3 - lse));
    double got = ref_xent_smooth(x, lab, 1, 3, 0.1, d);
    T_CHECK(fabs(got - want) < 1e-12, "xent by hand: %.15g vs %.15g", got, want);
    T_CHECK(fabs(d[0] - (exp(1 - lse) - 0.9)) < 1e-12, "xent grad by hand");
    T_CHECK(fabs(d[1] - (exp(2 - lse) - 0.05)) < 1e-12, "xent grad by hand");
    /* Two rows: the loss is the batch mean and the gradient carries 1/N. */
    double x2[6] = {1, 2, 3, 1, 2, 3}, d2[6];
    int32_t lab2[2] = {0, 0};
    T_CHECK(fabs(ref_xent_smooth(x2, lab2, 2, 3, 0.1, d2) - want) < 1e-12, "xent batch mean");
    T_CHECK(fabs(d2[0] - d[0] / 2) < 1e-12, "xent grad / N");
    /* e = 0 is plain cross-entropy */
    T_CHECK(fabs(ref_xent_smooth(x, lab, 1, 3, 0.0, NULL) - (lse - 1)) < 1e-12, "plain CE");
    printf("ok   xent hand-computed values\n");
}

static void check_sgd(void) {
    /* Two steps by hand: w 1, g 0.5, lr 0.1, m 0.9, wd 0.01.
     * step 1: g' = 0.51, v = 0.51, w = 0.949
     * step 2 (same g): g' = 0.5 + 0.00949 = 0.50949, v = 0.459 + 0.50949 = 0.96849,
     *         w = 0.949 - 0.096849 = 0.852151 */
    double w = 1, g = 0.5, v = 0;
    ref_sgd(&w, &g, &v, 1, 0.1, 0.9, 0.01);
    T_CHECK(fabs(w - 0.949) < 1e-15 && fabs(v - 0.51) < 1e-15, "sgd step 1: w %g v %g", w, v);
    ref_sgd(&w, &g, &v, 1, 0.1, 0.9, 0.01);
    T_CHECK(fabs(w - 0.852151) < 1e-14 && fabs(v - 0.96849) < 1e-14, "sgd step 2: w %.12g v %.12g",
            w, v);
    printf("ok   sgd hand-computed steps\n");
}

/* ---- a small chain: stem -> bn -> dw -> bn -> pw -> bn -> pool -> fc -> xent ---- */
typedef struct {
    double *x, *ws, *g0, *b0, *wd, *g1, *b1, *wp, *g2, *b2, *wf, *bf;
    int32_t *labels;
    int N, R, C0, C1, K;
    /* activations */
    double *z0, *y0, *z1, *y1, *z2, *y2, *pool, *logits;
    double *m0, *i0, *m1, *i1, *m2, *i2;
} NetCtx;

static double net_loss(void *p) {
    NetCtx *c = p;
    int H1 = ref_out(c->R, 2), H2 = ref_out(H1, 2);
    size_t M1 = (size_t)c->N * H1 * H1, M2 = (size_t)c->N * H2 * H2;
    ref_stem_fwd(c->x, c->ws, c->z0, c->N, c->R, c->R, c->C0, 2);
    ref_bn_relu6_train(c->z0, c->g0, c->b0, NULL, NULL, 0.1, 1e-5, M1, c->C0, c->y0, c->m0, c->i0);
    ref_dw_fwd(c->y0, c->wd, NULL, c->z1, c->N, H1, H1, c->C0, 2);
    ref_bn_relu6_train(c->z1, c->g1, c->b1, NULL, NULL, 0.1, 1e-5, M2, c->C0, c->y1, c->m1, c->i1);
    ref_pw_fwd(c->y1, c->wp, c->z2, M2, c->C0, c->C1);
    ref_bn_relu6_train(c->z2, c->g2, c->b2, NULL, NULL, 0.1, 1e-5, M2, c->C1, c->y2, c->m2, c->i2);
    ref_avgpool_fwd(c->y2, c->pool, c->N, H2 * H2, c->C1);
    ref_fc_fwd(c->pool, c->wf, c->bf, c->logits, c->N, c->C1, c->K);
    return ref_xent_smooth(c->logits, c->labels, c->N, c->K, 0.1, NULL);
}

static void check_chain(MbnRng *rng) {
    NetCtx c;
    memset(&c, 0, sizeof c);
    c.N = 3, c.R = 9, c.C0 = 4, c.C1 = 5, c.K = 3;
    int H1 = ref_out(c.R, 2), H2 = ref_out(H1, 2);
    size_t M1 = (size_t)c.N * H1 * H1, M2 = (size_t)c.N * H2 * H2;
    c.x = rnd(rng, (size_t)c.N * c.R * c.R * 3, -1, 1);
    c.ws = rnd(rng, (size_t)c.C0 * 27, -0.5, 0.5);
    c.g0 = rnd(rng, c.C0, 0.5, 1.5), c.b0 = rnd(rng, c.C0, 0.5, 2);
    c.wd = rnd(rng, 9 * (size_t)c.C0, -0.5, 0.5);
    c.g1 = rnd(rng, c.C0, 0.5, 1.5), c.b1 = rnd(rng, c.C0, 0.5, 2);
    c.wp = rnd(rng, (size_t)c.C1 * c.C0, -0.5, 0.5);
    c.g2 = rnd(rng, c.C1, 0.5, 1.5), c.b2 = rnd(rng, c.C1, 0.5, 2);
    c.wf = rnd(rng, (size_t)c.K * c.C1, -1, 1), c.bf = rnd(rng, c.K, -0.1, 0.1);
    c.labels = T_NEW(int32_t, c.N);
    for (int n = 0; n < c.N; n++)
        c.labels[n] = n % c.K;
    c.z0 = T_NEW(double, M1 *c.C0), c.y0 = T_NEW(double, M1 *c.C0);
    c.z1 = T_NEW(double, M2 *c.C0), c.y1 = T_NEW(double, M2 *c.C0);
    c.z2 = T_NEW(double, M2 *c.C1), c.y2 = T_NEW(double, M2 *c.C1);
    c.pool = T_NEW(double, (size_t)c.N *c.C1), c.logits = T_NEW(double, (size_t)c.N *c.K);
    c.m0 = T_NEW(double, c.C0), c.i0 = T_NEW(double, c.C0), c.m1 = T_NEW(double, c.C0),
    c.i1 = T_NEW(double, c.C0), c.m2 = T_NEW(double, c.C1), c.i2 = T_NEW(double, c.C1);
    net_loss(&c);
    /* backward through the chain with the references */
    double *dlog = T_NEW(double, (size_t)c.N *c.K), *dpool = T_NEW(double, (size_t)c.N *c.C1);
    double *dwf = T_NEW(double, (size_t)c.K *c.C1), *dbf = T_NEW(double, c.K);
    double *dy2 = T_NEW(double, M2 *c.C1), *dz2 = T_NEW(double, M2 *c.C1);
    double *dg2 = T_NEW(double, c.C1), *db2 = T_NEW(double, c.C1);
    double *dwp = T_NEW(double, (size_t)c.C1 *c.C0), *dy1 = T_NEW(double, M2 *c.C0);
    double *dz1 = T_NEW(double, M2 *c.C0), *dg1 = T_NEW(double, c.C0), *db1 = T_NEW(double, c.C0);
    double *dwd = T_NEW(double, 9 * (size_t)c.C0), *dy0 = T_NEW(double, M1 *c.C0);
    double *dz0 = T_NEW(double, M1 *c.C0), *dg0 = T_NEW(double, c.C0), *db0 = T_NEW(double, c.C0);
    double *dws = T_NEW(double, (size_t)c.C0 * 27);
    ref_xent_smooth(c.logits, c.labels, c.N, c.K, 0.1, dlog);
    ref_fc_bwd(c.pool, c.wf, dlog, dpool, dwf, dbf, c.N, c.C1, c.K);
    ref_avgpool_bwd(dpool, dy2, c.N, H2 * H2, c.C1);
    ref_bn_relu6_bwd(dy2, c.z2, c.g2, c.b2, c.m2, c.i2, M2, c.C1, dz2, dg2, db2);
    ref_pw_bwd_weight(c.y1, dz2, dwp, M2, c.C0, c.C1);
    ref_pw_bwd_input(dz2, c.wp, dy1, M2, c.C0, c.C1);
    ref_bn_relu6_bwd(dy1, c.z1, c.g1, c.b1, c.m1, c.i1, M2, c.C0, dz1, dg1, db1);
    ref_dw_bwd_weight(c.y0, dz1, dwd, c.N, H1, H1, c.C0, 2);
    ref_dw_bwd_input(dz1, c.wd, dy0, c.N, H1, H1, c.C0, 2);
    ref_bn_relu6_bwd(dy0, c.z0, c.g0, c.b0, c.m0, c.i0, M1, c.C0, dz0, dg0, db0);
    ref_stem_bwd_weight(c.x, dz0, dws, c.N, c.R, c.R, c.C0, 2);
    /* Gradients here are small (loss of a few units, 1/N and 1/M factors): compare at a scale
     * where 1e-7 relative still catches any wrong term. */
    gradcheck("chain stem w", c.ws, (size_t)c.C0 * 27, dws, net_loss, &c);
    gradcheck("chain bn0 gamma", c.g0, c.C0, dg0, net_loss, &c);
    gradcheck("chain dw w", c.wd, 9 * (size_t)c.C0, dwd, net_loss, &c);
    gradcheck("chain bn1 beta", c.b1, c.C0, db1, net_loss, &c);
    gradcheck("chain pw w", c.wp, (size_t)c.C1 * c.C0, dwp, net_loss, &c);
    gradcheck("chain bn2 gamma", c.g2, c.C1, dg2, net_loss, &c);
    gradcheck("chain fc w", c.wf, (size_t)c.K * c.C1, dwf, net_loss, &c);
    gradcheck("chain fc b", c.bf, c.K, dbf, net_loss, &c);
}

int main(void) {
    MbnRng rng;
    mbn_rng_seed(&rng, 20261128);
    check_stem(&rng, 2, 7, 5, 5, 1);
    check_stem(&rng, 1, 8, 9, 3, 2);
    check_dw(&rng, 2, 7, 6, 3, 1);
    check_dw(&rng, 1, 7, 7, 5, 2);
    check_dw(&rng, 2, 8, 5, 2, 2);
    check_pw(&rng, 7, 5, 3);
    check_bn(&rng, 40, 5);
    check_fold(&rng);
    check_fc(&rng, 3, 6, 4);
    check_pool(&rng, 2, 9, 3);
    check_xent(&rng, 3, 5, 0.1);
    check_xent(&rng, 2, 2, 0.0);
    check_xent_by_hand();
    check_sgd();
    check_chain(&rng);
    return t_summary("test_ref_gradcheck");
}
