/* The fused training-forward ops of the gpu family (model/ops.h, "BatchNorm fused into its
 * neighbours") against the double-precision references, on awkward shapes: a conv that applies
 * the previous layer's BN + ReLU6 as it loads z_prev (and stores that activation), writes its z
 * with per-tile statistics, and the merge of those statistics into the batch mean, invstd and
 * running statistics. Runs with MBN_KERNELS=gpu whatever the environment says (these ops exist
 * only in that family); skips (exit 77) when the device cannot run the gpu rows.
 *
 * Each stage is checked against a reference fed with the device's own input to that stage, so
 * the bounds stay first-order (u = 2^-24, as in test_ops_forward.c):
 *   activation y = clamp((z - m) is g + b, 0, 6) from given m, is: 4 roundings, each relative
 *     to at most |z - m| |is g| + |b|: 4u (|z - m| |is g| + |b|), x2 safety;
 *   conv output: a K-term sum, (K + 2) u sum|terms| (depthwise K = 9 (+1 guard), pointwise
 *     K = Cin);
 *   statistics over M outputs from P tiles: each tile's mean and squared deviations are
 *     in-order sums (tile rows + 2) u, and each of the P in-order pairwise merges adds a few
 *     roundings of terms bounded by max|z| (mean) or by the total m2 (m2), so
 *     e_mu = (M + 4P + 2) u max|z|, e_m2 = (M + 4P + 4) u m2 + M e_mu^2, then sqrt/division as
 *     in test_bn_train; x2 safety.
 * Every output is pre-filled with garbage and must be overwritten; every op runs twice and must
 * give the same bits. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "tests/support/devutil.h"
#include "tests/support/ref.h"
#include "tests/support/testutil.h"

#define GARBAGE 777.0f

static MbnDevice dev;

/* This file's own generator (splitmix64), so it depends on no particular test RNG API. */
static uint64_t rng_state;
static double urand(void) {
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return (double)((z ^ (z >> 31)) >> 11) / 9007199254740992.0;
}
static int irand(int lo, int hi) {
    return lo + (int)(urand() * (hi - lo + 1));
}
/* A random tensor (floats and their exact double mirror). */
static Tensor tnew(size_t n, double lo, double hi) {
    Tensor t = {T_NEW(float, n ? n : 1), T_NEW(double, n ? n : 1), n};
    for (size_t i = 0; i < n; i++) {
        t.f[i] = (float)(lo + (hi - lo) * urand());
        t.d[i] = t.f[i];
    }
    return t;
}

/* y = clamp((z - m) is g + b, 0, 6) per channel, and its tolerance */
static void ref_apply(const double *z, const double *m, const double *is, const double *g,
                      const double *b, size_t M, int C, double *y, double *tol) {
    for (size_t r = 0; r < M; r++)
        for (int c = 0; c < C; c++) {
            size_t i = r * C + c;
            double v = (z[i] - m[c]) * is[c] * g[c] + b[c];
            y[i] = v < 0 ? 0 : v > 6 ? 6 : v;
            tol[i] = 2 * 4 * T_U * (fabs(z[i] - m[c]) * fabs(is[c] * g[c]) + fabs(b[c]));
        }
}

/* Statistics of z (the device's conv output) merged on the device, against the reference. */
static void check_stats(const float *zf, size_t M, int C, size_t P, const float *sm,
                        const float *si, const float *rm, const float *rv, const double *rm0,
                        const double *rv0, const char *what) {
    const double momentum = 0.1, eps = 1e-5;
    double *z = T_NEW(double, M *C), *y = T_NEW(double, M *C), *mean = T_NEW(double, C),
           *is = T_NEW(double, C), *rmr = T_NEW(double, C), *rvr = T_NEW(double, C);
    tf2d(zf, z, M * C);
    memcpy(rmr, rm0, C * sizeof(double));
    memcpy(rvr, rv0, C * sizeof(double));
    double *one = T_NEW(double, C), *zero = T_NEW(double, C);
    for (int c = 0; c < C; c++)
        one[c] = 1, zero[c] = 0;
    ref_bn_relu6_train(z, one, zero, rmr, rvr, momentum, eps, M, C, y, mean, is);
    double *tm = T_NEW(double, C), *ti = T_NEW(double, C), *trm = T_NEW(double, C),
           *trv = T_NEW(double, C);
    for (int c = 0; c < C; c++) {
        double mx = 0, ss = 0;
        for (size_t r = 0; r < M; r++) {
            mx = fmax(mx, fabs(z[r * C + c]));
            ss += (z[r * C + c] - mean[c]) * (z[r * C + c] - mean[c]);
        }
        double e_mu = (M + 4.0 * P + 2) * T_U * mx;
        double e_m2 = (M + 4.0 * P + 4) * T_U * ss + M * e_mu * e_mu;
        double var = ss / M, e_var = e_m2 / M;
        double r_is = e_var / (2 * (var + eps)) + 7 * T_U;
        double unb = M > 1 ? ss / (M - 1) : var;
        tm[c] = 2 * e_mu;
        ti[c] = 2 * is[c] * r_is;
        trm[c] = 2 * (momentum * e_mu + 3 * T_U * (fabs(0.9 * rm0[c]) + fabs(0.1 * mean[c])));
        trv[c] = 2 * (momentum * (e_m2 / (M > 1 ? M - 1 : 1) + 2 * T_U * unb) +
                      3 * T_U * (fabs(0.9 * rv0[c]) + 0.1 * unb));
    }
    char label[128];
    snprintf(label, sizeof label, "  %s mean (%zu tiles)", what, P);
    T_OK(tcheck(label, sm, mean, tm, 0.0, C));
    T_OK(tcheck("  invstd", si, is, ti, 0.0, C));
    T_OK(tcheck("  running_mean", rm, rmr, trm, 0.0, C));
    T_OK(tcheck("  running_var", rv, rvr, trv, 0.0, C));
    free(z), free(y), free(mean), free(is), free(rmr), free(rvr), free(one), free(zero);
    free(tm), free(ti), free(trm), free(trv);
}

/* One fused layer: kind 's' stem-like GEMM (no pending BN, K = Cin), 'p' pointwise, 'd'
 * depthwise, on an input of N x H x W x Cin. */
static void test_layer(char kind, int N, int H, int W, int Cin, int Cout, int s) {
    bool dw = kind == 'd', bn_in = kind != 's';
    if (dw) Cout = Cin;
    int Ho = dw ? ref_out(H, s) : H, Wo = dw ? ref_out(W, s) : W;
    size_t Min = (size_t)N * H * W, M = (size_t)N * Ho * Wo;
    size_t nw = dw ? 9 * (size_t)Cin : (size_t)Cin * Cout;
    Tensor zp = tnew(Min * Cin, -3, 4), w = tnew(nw, -0.5, 0.5), g = tnew(Cin, -0.5, 2),
           b = tnew(Cin, -1, 3), m = tnew(Cin, -1, 1), is = tnew(Cin, 0.5, 2),
           rm = tnew(Cout, -1, 1), rv = tnew(Cout, 0.5, 2);
    /* the pointwise weight is passed transposed, [Cin, Cout] */
    float *wt = T_NEW(float, nw);
    double *wtd = T_NEW(double, nw);
    for (size_t i = 0; i < nw; i++)
        wt[i] = w.f[i], wtd[i] = w.d[i];
    if (!dw)
        for (int o = 0; o < Cout; o++)
            for (int i = 0; i < Cin; i++)
                wt[(size_t)i * Cout + o] = w.f[(size_t)o * Cin + i];
    MbnDevice *d = &dev;
    size_t rows = mbn_ops_bn_stats_rows(d, dw ? MBN_OP_DW_FWD : MBN_OP_GEMM, N, Ho, Wo);
    TBuf bzp = tbuf_new(d, zp.f, zp.n, 3), bw = tbuf_new(d, wt, nw, 5),
         bg = tbuf_new(d, g.f, Cin, 1), bb = tbuf_new(d, b.f, Cin, 2),
         bm = tbuf_new(d, m.f, Cin, 4), bi = tbuf_new(d, is.f, Cin, 4),
         by = tbuf_new_fill(d, GARBAGE, Min * Cin, 6), bz = tbuf_new_fill(d, GARBAGE, M * Cout, 7),
         bst = tbuf_new_fill(d, GARBAGE, mbn_ops_bn_stats_floats(rows, Cout), 0),
         brm = tbuf_new(d, rm.f, Cout, 8), brv = tbuf_new(d, rv.f, Cout, 9),
         bsm = tbuf_new_fill(d, GARBAGE, Cout, 3), bsi = tbuf_new_fill(d, GARBAGE, Cout, 3);
    float *y[2] = {T_NEW(float, Min *Cin), T_NEW(float, Min *Cin)};
    float *z[2] = {T_NEW(float, M *Cout), T_NEW(float, M *Cout)};
    float *sm[2] = {T_NEW(float, Cout), T_NEW(float, Cout)},
          *si[2] = {T_NEW(float, Cout), T_NEW(float, Cout)};
    float *orm = T_NEW(float, Cout), *orv = T_NEW(float, Cout);
    MbnBnApply in = {tb(bg), tb(bb), tb(bm), tb(bi), tb(by)};
    for (int run = 0; run < 2; run++) {
        float *garbage = T_NEW(float, Min *Cin);
        for (size_t i = 0; i < Min * Cin; i++)
            garbage[i] = GARBAGE;
        tbuf_write(d, by, garbage);
        free(garbage);
        tbuf_write(d, brm, rm.f);
        tbuf_write(d, brv, rv.f);
        if (dw)
            T_MBN(mbn_op_dw_fwd_train(d, tb(bzp), &in, tb(bw), tb(bz), N, H, W, Cin, s, tb(bst)));
        else
            T_MBN(mbn_op_pw_fwd_train(d, tb(bzp), bn_in ? &in : NULL, tb(bw), tb(bz), Min, Cin,
                                      Cout, tb(bst)));
        T_MBN(mbn_op_bn_stats_finalize(d, tb(bst), rows, M, Cout, tb(brm), tb(brv), 0.1f, 1e-5f,
                                       tb(bsm), tb(bsi)));
        tbuf_read(d, by, y[run]);
        tbuf_read(d, bz, z[run]);
        tbuf_read(d, bsm, sm[run]);
        tbuf_read(d, bsi, si[run]);
        tbuf_read(d, brm, orm);
        tbuf_read(d, brv, orv);
    }
    char what[128];
    /* the activation the conv read (and stored) */
    double *yref = T_NEW(double, Min *Cin), *ytol = T_NEW(double, Min *Cin);
    if (bn_in) {
        ref_apply(zp.d, m.d, is.d, g.d, b.d, Min, Cin, yref, ytol);
        snprintf(what, sizeof what, "%s N%d %dx%d Cin%d: activation stored", dw ? "dw" : "pw", N, H,
                 W, Cin);
        T_OK(tcheck(what, y[0], yref, ytol, 0.0, Min * Cin));
        T_OK(tsame_bits("  activation twice", y[0], y[1], Min * Cin));
    }
    /* the conv, from the device's activation */
    double *x = T_NEW(double, Min *Cin), *xa = T_NEW(double, Min *Cin);
    if (bn_in)
        tf2d(y[0], x, Min * Cin);
    else
        memcpy(x, zp.d, Min * Cin * sizeof(double));
    for (size_t i = 0; i < Min * Cin; i++)
        xa[i] = fabs(x[i]);
    double *zref = T_NEW(double, M *Cout), *zabs = T_NEW(double, M *Cout), *wa = dabs(wtd, nw),
           *tol;
    if (dw) {
        ref_dw_fwd(x, wtd, NULL, zref, N, H, W, Cin, s);
        ref_dw_fwd(xa, wa, NULL, zabs, N, H, W, Cin, s);
        tol = sum_tol(zabs, M * Cout, 10);
    } else {
        ref_pw_fwd(x, wtd, zref, M, Cin, Cout);
        ref_pw_fwd(xa, wa, zabs, M, Cin, Cout);
        tol = sum_tol(zabs, M * Cout, Cin);
    }
    snprintf(what, sizeof what, "%s_fwd_train %s N%d %dx%d Cin%d Cout%d s%d", dw ? "dw" : "pw",
             bn_in ? "bn_in" : "plain", N, H, W, Cin, Cout, s);
    T_OK(tcheck(what, z[0], zref, tol, 0.0, M * Cout));
    T_OK(tsame_bits("  z twice", z[0], z[1], M * Cout));
    check_stats(z[0], M, Cout, rows, sm[0], si[0], orm, orv, rm.d, rv.d, "stats");
    T_OK(tsame_bits("  mean twice", sm[0], sm[1], Cout));
    T_OK(tsame_bits("  invstd twice", si[0], si[1], Cout));
    T_OK(tbuf_guards_ok(d, by, "y") && tbuf_guards_ok(d, bz, "z") &&
         tbuf_guards_ok(d, bst, "stats") && tbuf_guards_ok(d, bsm, "save_mean"));
    T_OK(tbuf_unchanged(d, bzp, zp.f, "z_prev"));
    TBuf *all[] = {&bzp, &bw, &bg, &bb, &bm, &bi, &by, &bz, &bst, &brm, &brv, &bsm, &bsi};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        tbuf_free(all[i]);
    tfree(&zp), tfree(&w), tfree(&g), tfree(&b), tfree(&m), tfree(&is), tfree(&rm), tfree(&rv);
    for (int i = 0; i < 2; i++)
        free(y[i]), free(z[i]), free(sm[i]), free(si[i]);
    free(wt), free(wtd), free(orm), free(orv), free(yref), free(ytol), free(x), free(xa),
        free(zref), free(zabs), free(wa), free(tol);
}

/* The last layer's separate apply pass. */
static void test_apply(size_t M, int C) {
    Tensor z = tnew(M * C, -3, 4), g = tnew(C, -0.5, 2), b = tnew(C, -1, 3), m = tnew(C, -1, 1),
           is = tnew(C, 0.5, 2);
    TBuf bz = tbuf_new(&dev, z.f, z.n, 1), bg = tbuf_new(&dev, g.f, C, 2),
         bb = tbuf_new(&dev, b.f, C, 3), bm = tbuf_new(&dev, m.f, C, 5),
         bi = tbuf_new(&dev, is.f, C, 5), by = tbuf_new_fill(&dev, GARBAGE, M * C, 6);
    MbnBnApply bn = {tb(bg), tb(bb), tb(bm), tb(bi), tb(by)};
    T_MBN(mbn_op_bn_relu6_apply(&dev, tb(bz), &bn, M, C));
    float *y = T_NEW(float, M *C);
    tbuf_read(&dev, by, y);
    double *r = T_NEW(double, M *C), *tol = T_NEW(double, M *C);
    ref_apply(z.d, m.d, is.d, g.d, b.d, M, C, r, tol);
    char what[96];
    snprintf(what, sizeof what, "bn_relu6_apply M%zu C%d", M, C);
    T_OK(tcheck(what, y, r, tol, 0.0, M * C));
    T_OK(tbuf_guards_ok(&dev, by, "apply y"));
    TBuf *all[] = {&bz, &bg, &bb, &bm, &bi, &by};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        tbuf_free(all[i]);
    tfree(&z), tfree(&g), tfree(&b), tfree(&m), tfree(&is);
    free(y), free(r), free(tol);
}

int main(void) {
    setenv("MBN_KERNELS", "gpu", 1);
    tdev_open(&dev);
    if (!mbn_ops_bn_fused(&dev)) {
        printf("SKIP: device %s cannot run the fused gpu rows (see mbn devices --json)\n",
               dev.info.name);
        mbn_device_close(&dev);
        return 77;
    }
    rng_state = 4242;
    if (t_small_shapes()) {
        /* two row tiles of the gpu GEMM (64 + 62 and 64 + 34 rows), partial column tiles and a
         * partial k block; depthwise tiles with halos, partial in both directions, both
         * strides; a merge of several tiles' statistics */
        test_layer('s', 2, 9, 7, 27, 13, 1);
        test_layer('p', 2, 7, 7, 13, 24, 1);
        test_layer('d', 2, 9, 9, 13, 0, 2);
        test_layer('d', 1, 10, 9, 16, 0, 1);
        test_apply(49, 13);
        mbn_device_close(&dev);
        return t_summary("test_ops_fused (small shapes)");
    }
    test_layer('s', 2, 9, 7, 27, 13, 1);
    test_layer('s', 1, 33, 31, 27, 32, 1);
    test_layer('p', 2, 7, 7, 13, 24, 1);
    test_layer('p', 3, 15, 9, 64, 70, 1);
    test_layer('p', 1, 1, 1, 8, 8, 1);
    test_layer('d', 2, 9, 9, 13, 0, 2);
    test_layer('d', 3, 15, 15, 37, 0, 1);
    test_layer('d', 2, 8, 8, 24, 0, 2);
    test_layer('d', 1, 1, 1, 5, 0, 1);
    test_layer('d', 2, 17, 19, 16, 0, 2);
    test_apply(49, 13);
    test_apply(1000, 64);
    for (int i = 0; i < 6; i++) {
        int N = irand(1, 3), H = irand(1, 20), W = irand(1, 20);
        int C = irand(1, 40), C2 = irand(1, 40), s = irand(1, 2);
        printf("-- random shape %d: N%d H%d W%d C%d C2 %d stride %d\n", i, N, H, W, C, C2, s);
        test_layer('d', N, H, W, C, 0, s);
        test_layer('p', N, H, W, C, C2, 1);
    }
    mbn_device_close(&dev);
    return t_summary("test_ops_fused");
}
