/* Every backward device op of model/ops.h (and the loss and the optimizer) against the
 * double-precision references, on random inputs and awkward shapes (odd sizes, stride 1 and 2,
 * channel counts not multiples of 4/8/16, batch 1 and several), tensors at odd offsets with
 * guard zones, outputs poisoned with garbage before each of two runs, and bit-identical
 * results of the two runs required (the dw weight gradient, BN's dgamma/dbeta and the FC bias
 * gradient are chunked reductions: ops.h promises a fixed order). The references' own backward
 * passes are validated against finite differences by test_ref_gradcheck.
 *
 * Tolerances (u = 2^-24, see test_ops_forward.c): a K-term float sum is within
 * (K + 2) u sum|terms| of the exact value whatever the order, with sum|terms| from the reference
 * run on |inputs|. BN backward: the saved mean and invstd are op inputs (identical floats for
 * device and reference), so xhat = (z - mean) * invstd carries 2u relative error; with
 * g = dy where 0 < t < 6:
 *   e_dbeta  = (M + 1) u sum|g|,  e_dgamma = (M + 4) u sum|g xhat|,
 *   e_dz = |gamma invstd| (e_dbeta/M + |xhat| e_dgamma/M + 2u|xhat dgamma|/M
 *          + 4u (|g| + |dbeta|/M + |xhat dgamma|/M)) + 2u |dz|,  times 2.
 * Inputs are redrawn so that no pre-clamp value t lies within 1e-3 of the ReLU6 kinks: there,
 * device and reference could legitimately disagree about the mask by rounding. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "model/net.h"
#include "tests/support/devutil.h"
#include "tests/support/ref.h"
#include "tests/support/testutil.h"

#define GARBAGE 777.0f

static MbnDevice dev;
static MbnRng rng;

/* The tensors of this file are drawn from its own generator. */
#define tnew(n, lo, hi) ttensor_new(&rng, (n), (lo), (hi))

/* ---- stem weight gradient: dw[Cout, 27] = dz^T patches ---- */
static void test_stem_bwd_weight(int N, int H, int W, int Cout, int s) {
    int Ho = ref_out(H, s), Wo = ref_out(W, s);
    size_t M = (size_t)N * Ho * Wo, nw = (size_t)Cout * 27;
    Tensor x = tnew((size_t)N * H * W * 3, -2.5, 2.5), dz = tnew(M * Cout, -1, 1);
    /* patches come from the device's im2col (tested exact in test_ops_forward) */
    TBuf bx = tbuf_new(&dev, x.f, x.n, 0), bp = tbuf_new(&dev, NULL, M * 27, 3),
         bdz = tbuf_new(&dev, dz.f, dz.n, 5), bdw = tbuf_new_fill(&dev, GARBAGE, nw, 7),
         bs = tbuf_new_fill(&dev, GARBAGE, mbn_net_scratch_floats(M, Cout), 0);
    T_MBN(mbn_op_stem_im2col(&dev, tb(bx), N, H, W, s, tb(bp)));
    float *o[2] = {T_NEW(float, nw), T_NEW(float, nw)};
    for (int run = 0; run < 2; run++) {
        tbuf_poison(&dev, bdw, GARBAGE);
        T_MBN(mbn_op_stem_bwd_weight(&dev, tb(bp), tb(bdz), tb(bdw), M, Cout, tb(bs)));
        tbuf_read(&dev, bdw, o[run]);
    }
    double *r = T_NEW(double, nw), *ra = T_NEW(double, nw), *xa = dabs(x.d, x.n),
           *da = dabs(dz.d, dz.n);
    ref_stem_bwd_weight(x.d, dz.d, r, N, H, W, Cout, s);
    ref_stem_bwd_weight(xa, da, ra, N, H, W, Cout, s);
    double *tol = sum_tol(ra, nw, (double)M);
    char what[96];
    snprintf(what, sizeof what, "stem_bwd_weight N%d %dx%d s%d Cout%d", N, H, W, s, Cout);
    T_OK(tcheck(what, o[0], r, tol, 0.0, nw));
    T_OK(tsame_bits("  stem_bwd_weight twice", o[0], o[1], nw));
    T_OK(tbuf_guards_ok(&dev, bdw, "stem dw"));
    T_OK(tbuf_unchanged(&dev, bdz, dz.f, "stem dz"));
    tbuf_free(&bx), tbuf_free(&bp), tbuf_free(&bdz), tbuf_free(&bdw), tbuf_free(&bs);
    tfree(&x), tfree(&dz);
    free(o[0]), free(o[1]), free(r), free(ra), free(xa), free(da), free(tol);
}

/* ---- depthwise: input and weight gradients ---- */
static void test_dw_bwd(int N, int H, int W, int C, int s) {
    int Ho = ref_out(H, s), Wo = ref_out(W, s);
    size_t nx = (size_t)N * H * W * C, ny = (size_t)N * Ho * Wo * C, nw = 9 * (size_t)C;
    Tensor x = tnew(nx, 0, 6), w = tnew(nw, -1, 1), dy = tnew(ny, -1, 1);
    size_t scratch_n = mbn_net_scratch_floats((size_t)N * Ho * Wo, C);
    TBuf bx = tbuf_new(&dev, x.f, nx, 3), bw = tbuf_new(&dev, w.f, nw, 4),
         bdy = tbuf_new(&dev, dy.f, ny, 5), bdx = tbuf_new_fill(&dev, GARBAGE, nx, 6),
         bdw = tbuf_new_fill(&dev, GARBAGE, nw, 7), bs = tbuf_new_fill(&dev, GARBAGE, scratch_n, 0);
    float *dx[2] = {T_NEW(float, nx), T_NEW(float, nx)},
          *dw[2] = {T_NEW(float, nw), T_NEW(float, nw)};
    for (int run = 0; run < 2; run++) {
        tbuf_poison(&dev, bdx, GARBAGE);
        tbuf_poison(&dev, bdw, GARBAGE);
        T_MBN(mbn_op_dw_bwd_input(&dev, tb(bdy), tb(bw), tb(bdx), N, H, W, C, s));
        T_MBN(mbn_op_dw_bwd_weight(&dev, tb(bx), tb(bdy), tb(bdw), N, H, W, C, s, tb(bs)));
        tbuf_read(&dev, bdx, dx[run]);
        tbuf_read(&dev, bdw, dw[run]);
    }
    double *rx = T_NEW(double, nx), *rxa = T_NEW(double, nx), *rw = T_NEW(double, nw),
           *rwa = T_NEW(double, nw);
    double *xa = dabs(x.d, nx), *wa = dabs(w.d, nw), *dya = dabs(dy.d, ny);
    ref_dw_bwd_input(dy.d, w.d, rx, N, H, W, C, s);
    ref_dw_bwd_input(dya, wa, rxa, N, H, W, C, s);
    ref_dw_bwd_weight(x.d, dy.d, rw, N, H, W, C, s);
    ref_dw_bwd_weight(xa, dya, rwa, N, H, W, C, s);
    double *tx = sum_tol(rxa, nx, 9), *tw = sum_tol(rwa, nw, (double)N * Ho * Wo);
    char what[96];
    snprintf(what, sizeof what, "dw_bwd_input N%d %dx%d C%d s%d", N, H, W, C, s);
    T_OK(tcheck(what, dx[0], rx, tx, 0.0, nx));
    snprintf(what, sizeof what, "dw_bwd_weight N%d %dx%d C%d s%d (%d chunks)", N, H, W, C, s,
             mbn_ops_chunks((size_t)N * Ho));
    T_OK(tcheck(what, dw[0], rw, tw, 0.0, nw));
    T_OK(tsame_bits("  dw_bwd_input twice", dx[0], dx[1], nx));
    T_OK(tsame_bits("  dw_bwd_weight twice", dw[0], dw[1], nw));
    T_OK(tbuf_guards_ok(&dev, bdx, "dw dx") && tbuf_guards_ok(&dev, bdw, "dw dw"));
    T_OK(tbuf_unchanged(&dev, bdy, dy.f, "dw dy") && tbuf_unchanged(&dev, bx, x.f, "dw x"));
    TBuf *all[] = {&bx, &bw, &bdy, &bdx, &bdw, &bs};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        tbuf_free(all[i]);
    tfree(&x), tfree(&w), tfree(&dy);
    for (int i = 0; i < 2; i++)
        free(dx[i]), free(dw[i]);
    free(rx), free(rxa), free(rw), free(rwa), free(xa), free(wa), free(dya), free(tx), free(tw);
}

/* ---- pointwise: input and weight gradients ---- */
static void test_pw_bwd(size_t M, int Cin, int Cout) {
    size_t nx = M * Cin, ny = M * Cout, nw = (size_t)Cout * Cin;
    Tensor x = tnew(nx, 0, 6), w = tnew(nw, -0.5, 0.5), dy = tnew(ny, -1, 1);
    TBuf bx = tbuf_new(&dev, x.f, nx, 1), bw = tbuf_new(&dev, w.f, nw, 2),
         bdy = tbuf_new(&dev, dy.f, ny, 3), bdx = tbuf_new_fill(&dev, GARBAGE, nx, 4),
         bdw = tbuf_new_fill(&dev, GARBAGE, nw, 5);
    float *dx[2] = {T_NEW(float, nx), T_NEW(float, nx)},
          *dw[2] = {T_NEW(float, nw), T_NEW(float, nw)};
    for (int run = 0; run < 2; run++) {
        tbuf_poison(&dev, bdx, GARBAGE);
        tbuf_poison(&dev, bdw, GARBAGE);
        T_MBN(mbn_op_pw_bwd_input(&dev, tb(bdy), tb(bw), tb(bdx), M, Cin, Cout));
        T_MBN(mbn_op_pw_bwd_weight(&dev, tb(bx), tb(bdy), tb(bdw), M, Cin, Cout));
        tbuf_read(&dev, bdx, dx[run]);
        tbuf_read(&dev, bdw, dw[run]);
    }
    double *rx = T_NEW(double, nx), *rxa = T_NEW(double, nx), *rw = T_NEW(double, nw),
           *rwa = T_NEW(double, nw);
    double *xa = dabs(x.d, nx), *wa = dabs(w.d, nw), *dya = dabs(dy.d, ny);
    ref_pw_bwd_input(dy.d, w.d, rx, M, Cin, Cout);
    ref_pw_bwd_input(dya, wa, rxa, M, Cin, Cout);
    ref_pw_bwd_weight(x.d, dy.d, rw, M, Cin, Cout);
    ref_pw_bwd_weight(xa, dya, rwa, M, Cin, Cout);
    double *tx = sum_tol(rxa, nx, Cout), *tw = sum_tol(rwa, nw, (double)M);
    char what[96];
    snprintf(what, sizeof what, "pw_bwd_input M%zu Cin%d Cout%d", M, Cin, Cout);
    T_OK(tcheck(what, dx[0], rx, tx, 0.0, nx));
    snprintf(what, sizeof what, "pw_bwd_weight M%zu Cin%d Cout%d", M, Cin, Cout);
    T_OK(tcheck(what, dw[0], rw, tw, 0.0, nw));
    T_OK(tsame_bits("  pw_bwd_input twice", dx[0], dx[1], nx));
    T_OK(tsame_bits("  pw_bwd_weight twice", dw[0], dw[1], nw));
    T_OK(tbuf_guards_ok(&dev, bdx, "pw dx") && tbuf_guards_ok(&dev, bdw, "pw dw"));
    T_OK(tbuf_unchanged(&dev, bdy, dy.f, "pw dy") && tbuf_unchanged(&dev, bw, w.f, "pw w"));
    TBuf *all[] = {&bx, &bw, &bdy, &bdx, &bdw};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        tbuf_free(all[i]);
    tfree(&x), tfree(&w), tfree(&dy);
    for (int i = 0; i < 2; i++)
        free(dx[i]), free(dw[i]);
    free(rx), free(rxa), free(rw), free(rwa), free(xa), free(wa), free(dya), free(tx), free(tw);
}

/* ---- BN + ReLU6 backward ---- */
static void test_bn_bwd(size_t M, int C) {
    /* Draw z, gamma, beta, then the batch statistics as float (the op takes them as inputs);
     * nudge any element whose t = gamma * xhat + beta lies within 1e-3 of 0 or 6. */
    Tensor z = tnew(M * C, -2, 3), gamma = tnew(C, 0.3, 2), beta = tnew(C, -0.5, 4),
           dy = tnew(M * C, -1, 1);
    gamma.f[0] = -gamma.f[0], gamma.d[0] = gamma.f[0];
    /* A small beta on the last channel puts part of it below 0 whatever the draw, so the ReLU6
     * mask is always exercised (checked below). */
    beta.f[C - 1] = 0.25f, beta.d[C - 1] = beta.f[C - 1];
    float *meanf = T_NEW(float, C), *isf = T_NEW(float, C);
    double *mean = T_NEW(double, C), *is = T_NEW(double, C), *tmp = T_NEW(double, M *C);
    int tries = 0;
    for (;; tries++) {
        ref_bn_relu6_train(z.d, gamma.d, beta.d, NULL, NULL, 0.1, 1e-5, M, C, tmp, mean, is);
        td2f(mean, meanf, C), td2f(is, isf, C);
        tf2d(meanf, mean, C), tf2d(isf, is, C);
        size_t moved = 0;
        for (size_t i = 0; i < M * C; i++) {
            int c = (int)(i % C);
            double t = gamma.d[c] * (z.d[i] - mean[c]) * is[c] + beta.d[c];
            if (fabs(t) < 1e-3 || fabs(t - 6) < 1e-3) {
                z.f[i] += 0.01f, z.d[i] = z.f[i];
                moved++;
            }
        }
        if (!moved) break;
        if (tries > 50) {
            T_CHECK(0, "bn bwd: could not draw inputs away from the ReLU6 kinks");
            return;
        }
    }
    size_t scratch_n = mbn_net_scratch_floats(M, C);
    TBuf bdy = tbuf_new(&dev, dy.f, dy.n, 1), bz = tbuf_new(&dev, z.f, z.n, 2),
         bg = tbuf_new(&dev, gamma.f, C, 3), bb = tbuf_new(&dev, beta.f, C, 4),
         bm = tbuf_new(&dev, meanf, C, 5), bi = tbuf_new(&dev, isf, C, 5),
         bdz = tbuf_new_fill(&dev, GARBAGE, M * C, 6), bdg = tbuf_new_fill(&dev, GARBAGE, C, 7),
         bdb = tbuf_new_fill(&dev, GARBAGE, C, 8), bs = tbuf_new_fill(&dev, GARBAGE, scratch_n, 0);
    float *dz[2] = {T_NEW(float, M *C), T_NEW(float, M *C)};
    float *dg[2] = {T_NEW(float, C), T_NEW(float, C)}, *db[2] = {T_NEW(float, C), T_NEW(float, C)};
    for (int run = 0; run < 2; run++) {
        tbuf_poison(&dev, bdz, GARBAGE);
        tbuf_poison(&dev, bdg, GARBAGE);
        tbuf_poison(&dev, bdb, GARBAGE);
        T_MBN(mbn_op_bn_relu6_bwd(&dev, tb(bdy), tb(bz), tb(bg), tb(bb), tb(bm), tb(bi), M, C,
                                  tb(bdz), tb(bdg), tb(bdb), tb(bs)));
        tbuf_read(&dev, bdz, dz[run]);
        tbuf_read(&dev, bdg, dg[run]);
        tbuf_read(&dev, bdb, db[run]);
    }
    double *rdz = T_NEW(double, M *C), *rdg = T_NEW(double, C), *rdb = T_NEW(double, C);
    ref_bn_relu6_bwd(dy.d, z.d, gamma.d, beta.d, mean, is, M, C, rdz, rdg, rdb);
    double *tdz = T_NEW(double, M *C), *tdg = T_NEW(double, C), *tdb = T_NEW(double, C);
    size_t passing = 0;
    for (int c = 0; c < C; c++) {
        double sg = 0, sgx = 0;
        for (size_t m = 0; m < M; m++) {
            size_t i = m * C + c;
            double xhat = (z.d[i] - mean[c]) * is[c], t = gamma.d[c] * xhat + beta.d[c];
            double g = (t > 0 && t < 6) ? dy.d[i] : 0;
            passing += g != 0;
            sg += fabs(g);
            sgx += fabs(g * xhat);
        }
        double e_db = (M + 1) * T_U * sg, e_dg = (M + 4) * T_U * sgx;
        tdb[c] = 2 * e_db;
        tdg[c] = 2 * e_dg;
        for (size_t m = 0; m < M; m++) {
            size_t i = m * C + c;
            double xhat = (z.d[i] - mean[c]) * is[c], t = gamma.d[c] * xhat + beta.d[c];
            double g = (t > 0 && t < 6) ? dy.d[i] : 0;
            double a = fabs(gamma.d[c] * is[c]), xd = fabs(xhat * rdg[c]) / M;
            tdz[i] = 2 * (a * (e_db / M + fabs(xhat) * e_dg / M + 2 * T_U * xd +
                               4 * T_U * (fabs(g) + fabs(rdb[c]) / M + xd)) +
                          2 * T_U * fabs(rdz[i]));
        }
    }
    T_CHECK(M * C < 40 || (passing > 0 && passing < M * C),
            "bn bwd data: %zu of %zu gradients pass the mask", passing, M * C);
    char what[96];
    snprintf(what, sizeof what, "bn_relu6_bwd dz M%zu C%d (%d chunks)", M, C, mbn_ops_chunks(M));
    T_OK(tcheck(what, dz[0], rdz, tdz, 0.0, M * C));
    T_OK(tcheck("  dgamma", dg[0], rdg, tdg, 0.0, C));
    T_OK(tcheck("  dbeta", db[0], rdb, tdb, 0.0, C));
    T_OK(tsame_bits("  bn dz twice", dz[0], dz[1], M * C));
    T_OK(tsame_bits("  bn dgamma twice", dg[0], dg[1], C));
    T_OK(tsame_bits("  bn dbeta twice", db[0], db[1], C));
    T_OK(tbuf_guards_ok(&dev, bdz, "bn dz") && tbuf_guards_ok(&dev, bdg, "bn dgamma") &&
         tbuf_guards_ok(&dev, bdb, "bn dbeta"));
    T_OK(tbuf_unchanged(&dev, bdy, dy.f, "bn dy") && tbuf_unchanged(&dev, bz, z.f, "bn z"));
    TBuf *all[] = {&bdy, &bz, &bg, &bb, &bm, &bi, &bdz, &bdg, &bdb, &bs};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        tbuf_free(all[i]);
    tfree(&z), tfree(&gamma), tfree(&beta), tfree(&dy);
    for (int i = 0; i < 2; i++)
        free(dz[i]), free(dg[i]), free(db[i]);
    free(meanf), free(isf), free(mean), free(is), free(tmp), free(rdz), free(rdg), free(rdb),
        free(tdz), free(tdg), free(tdb);
}

/* ---- average pool backward ---- */
static void test_avgpool_bwd(int N, int HW, int C) {
    size_t nx = (size_t)N * HW * C, ny = (size_t)N * C;
    Tensor dy = tnew(ny, -1, 1);
    TBuf bdy = tbuf_new(&dev, dy.f, ny, 3), bdx = tbuf_new_fill(&dev, GARBAGE, nx, 4);
    float *o[2] = {T_NEW(float, nx), T_NEW(float, nx)};
    for (int run = 0; run < 2; run++) {
        tbuf_poison(&dev, bdx, GARBAGE);
        T_MBN(mbn_op_avgpool_bwd(&dev, tb(bdy), tb(bdx), N, HW, C));
        tbuf_read(&dev, bdx, o[run]);
    }
    double *r = T_NEW(double, nx), *tol = T_NEW(double, nx);
    ref_avgpool_bwd(dy.d, r, N, HW, C);
    for (size_t i = 0; i < nx; i++)
        tol[i] = 3 * T_U * fabs(r[i]); /* one division: 2.5 ulp */
    char what[96];
    snprintf(what, sizeof what, "avgpool_bwd N%d HW%d C%d", N, HW, C);
    T_OK(tcheck(what, o[0], r, tol, 0.0, nx));
    T_OK(tsame_bits("  avgpool_bwd twice", o[0], o[1], nx));
    T_OK(tbuf_guards_ok(&dev, bdx, "avgpool dx"));
    tbuf_free(&bdy), tbuf_free(&bdx);
    tfree(&dy);
    free(o[0]), free(o[1]), free(r), free(tol);
}

/* ---- FC backward (dx optional) ---- */
static void test_fc_bwd(int N, int C, int K, int with_dx) {
    size_t nx = (size_t)N * C, nw = (size_t)K * C, ny = (size_t)N * K;
    Tensor x = tnew(nx, 0, 6), w = tnew(nw, -0.3, 0.3), dy = tnew(ny, -0.2, 0.2);
    size_t scratch_n = mbn_net_scratch_floats((size_t)N, K);
    TBuf bx = tbuf_new(&dev, x.f, nx, 1), bw = tbuf_new(&dev, w.f, nw, 2),
         bdy = tbuf_new(&dev, dy.f, ny, 3), bdx = tbuf_new_fill(&dev, GARBAGE, nx, 4),
         bdw = tbuf_new_fill(&dev, GARBAGE, nw, 5), bdb = tbuf_new_fill(&dev, GARBAGE, K, 6),
         bs = tbuf_new_fill(&dev, GARBAGE, scratch_n, 0);
    float *dx[2] = {T_NEW(float, nx), T_NEW(float, nx)},
          *dw[2] = {T_NEW(float, nw), T_NEW(float, nw)},
          *db[2] = {T_NEW(float, K), T_NEW(float, K)};
    for (int run = 0; run < 2; run++) {
        tbuf_poison(&dev, bdx, GARBAGE);
        tbuf_poison(&dev, bdw, GARBAGE);
        tbuf_poison(&dev, bdb, GARBAGE);
        T_MBN(mbn_op_fc_bwd(&dev, tb(bx), tb(bw), tb(bdy), with_dx ? tb(bdx) : MBN_NOBUF, tb(bdw),
                            tb(bdb), N, C, K, tb(bs)));
        tbuf_read(&dev, bdx, dx[run]);
        tbuf_read(&dev, bdw, dw[run]);
        tbuf_read(&dev, bdb, db[run]);
    }
    double *rx = T_NEW(double, nx), *rxa = T_NEW(double, nx), *rw = T_NEW(double, nw),
           *rwa = T_NEW(double, nw), *rb = T_NEW(double, K), *rba = T_NEW(double, K);
    double *xa = dabs(x.d, nx), *wa = dabs(w.d, nw), *dya = dabs(dy.d, ny);
    ref_fc_bwd(x.d, w.d, dy.d, rx, rw, rb, N, C, K);
    ref_fc_bwd(xa, wa, dya, rxa, rwa, rba, N, C, K);
    double *tx = sum_tol(rxa, nx, K), *tw = sum_tol(rwa, nw, N), *tbb = sum_tol(rba, K, N);
    char what[96];
    if (with_dx) {
        snprintf(what, sizeof what, "fc_bwd dx N%d C%d K%d", N, C, K);
        T_OK(tcheck(what, dx[0], rx, tx, 0.0, nx));
        T_OK(tsame_bits("  fc dx twice", dx[0], dx[1], nx));
    } else {
        /* dx absent: the garbage must still be there */
        int untouched = 1;
        for (size_t i = 0; i < nx; i++)
            untouched &= dx[0][i] == GARBAGE;
        T_CHECK(untouched, "fc_bwd wrote dx although none was given");
    }
    snprintf(what, sizeof what, "fc_bwd dw N%d C%d K%d", N, C, K);
    T_OK(tcheck(what, dw[0], rw, tw, 0.0, nw));
    snprintf(what, sizeof what, "fc_bwd db N%d K%d", N, K);
    T_OK(tcheck(what, db[0], rb, tbb, 0.0, K));
    T_OK(tsame_bits("  fc dw twice", dw[0], dw[1], nw));
    T_OK(tsame_bits("  fc db twice", db[0], db[1], K));
    T_OK(tbuf_guards_ok(&dev, bdx, "fc dx") && tbuf_guards_ok(&dev, bdw, "fc dw") &&
         tbuf_guards_ok(&dev, bdb, "fc db"));
    T_OK(tbuf_unchanged(&dev, bdy, dy.f, "fc dy") && tbuf_unchanged(&dev, bx, x.f, "fc x"));
    TBuf *all[] = {&bx, &bw, &bdy, &bdx, &bdw, &bdb, &bs};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        tbuf_free(all[i]);
    tfree(&x), tfree(&w), tfree(&dy);
    for (int i = 0; i < 2; i++)
        free(dx[i]), free(dw[i]), free(db[i]);
    free(rx), free(rxa), free(rw), free(rwa), free(rb), free(rba), free(xa), free(wa), free(dya),
        free(tx), free(tw), free(tbb);
}

/* ---- smoothed cross-entropy: loss and dlogits ---- */
static void test_xent(int N, int K, float e, double scale) {
    size_t n = (size_t)N * K;
    Tensor x = tnew(n, -scale, scale);
    int32_t *lab = T_NEW(int32_t, N);
    for (int i = 0; i < N; i++)
        lab[i] = t_rand_int(&rng, 0, K - 1);
    lab[0] = K - 1; /* the last class too */
    size_t scratch_n = mbn_net_scratch_floats((size_t)N, K) + (size_t)N;
    TBuf bx = tbuf_new(&dev, x.f, n, 3), bl = tbuf_new_int(&dev, lab, N, 5),
         bd = tbuf_new_fill(&dev, GARBAGE, n, 6), bloss = tbuf_new_fill(&dev, GARBAGE, 1, 9),
         bs = tbuf_new_fill(&dev, GARBAGE, scratch_n, 0);
    float *d[2] = {T_NEW(float, n), T_NEW(float, n)}, loss[2];
    for (int run = 0; run < 2; run++) {
        tbuf_poison(&dev, bd, GARBAGE);
        tbuf_poison(&dev, bloss, GARBAGE);
        T_MBN(mbn_op_xent_smooth(&dev, tb(bx), tb(bl), N, K, e, tb(bd), tb(bloss), tb(bs)));
        tbuf_read(&dev, bd, d[run]);
        tbuf_read(&dev, bloss, &loss[run]);
    }
    double *rd = T_NEW(double, n), *tol = T_NEW(double, n);
    double rloss = ref_xent_smooth(x.d, lab, N, K, (double)e, rd);
    /* lse = mx + log(sum exp(x - mx)): error u(|mx| + |lse|) + 3u|log s| + (K + 3)u (relative
     * error of the sum, carried through log); logp = x - lse adds u|x - lse|. Row loss:
     * sum t |err logp| + K u sum|t logp|; the mean adds (N + 2) u mean|row|. dlogits:
     * p (err logp + 3u) + 3u|p - t|, over N. Safety factor 2 throughout. */
    double on = 1.0 - (double)e, off = (double)e / (K - 1), tl = 0;
    for (int i = 0; i < N; i++) {
        const double *xi = x.d + (size_t)i * K;
        double mx = -INFINITY, s = 0;
        for (int k = 0; k < K; k++)
            mx = fmax(mx, xi[k]);
        for (int k = 0; k < K; k++)
            s += exp(xi[k] - mx);
        double lse = mx + log(s);
        double e_lse = T_U * (fabs(mx) + fabs(lse)) + 3 * T_U * fabs(log(s)) + (K + 3) * T_U;
        double row_err = 0, row_abs = 0;
        for (int k = 0; k < K; k++) {
            double t = k == lab[i] ? on : off, logp = xi[k] - lse, p = exp(logp);
            double e_logp = e_lse + T_U * fabs(xi[k] - lse);
            row_err += t * e_logp;
            row_abs += fabs(t * logp);
            tol[(size_t)i * K + k] = 2 * (p * (e_logp + 3 * T_U) + 3 * T_U * fabs(p - t)) / N;
        }
        tl += (row_err + K * T_U * row_abs + (N + 2) * T_U * row_abs) / N;
    }
    tl *= 2;
    char what[96];
    snprintf(what, sizeof what, "xent_smooth dlogits N%d K%d e%.2f", N, K, (double)e);
    T_OK(tcheck(what, d[0], rd, tol, 1e-37, n));
    T_OK(tcheck("  xent_smooth loss", &loss[0], &rloss, NULL, tl, 1));
    T_OK(tsame_bits("  xent dlogits twice", d[0], d[1], n));
    T_OK(tsame_bits("  xent loss twice", &loss[0], &loss[1], 1));
    T_OK(tbuf_guards_ok(&dev, bd, "xent dlogits") && tbuf_guards_ok(&dev, bloss, "xent loss") &&
         tbuf_guards_ok(&dev, bl, "xent labels"));
    T_OK(tbuf_unchanged(&dev, bx, x.f, "xent logits"));
    TBuf *all[] = {&bx, &bl, &bd, &bloss, &bs};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        tbuf_free(all[i]);
    tfree(&x);
    free(lab), free(d[0]), free(d[1]), free(rd), free(tol);
}

/* ---- momentum SGD, several steps ---- */
static void test_sgd(size_t n, size_t off, float lr, float momentum, float wd, int steps) {
    Tensor w = tnew(n, -1, 1), v = tnew(n, -0.1, 0.1);
    TBuf bw = tbuf_new(&dev, w.f, n, off), bv = tbuf_new(&dev, v.f, n, off);
    TBuf bg = tbuf_new(&dev, NULL, n, off);
    double *rw = T_NEW(double, n), *rv = T_NEW(double, n), *tw = T_NEW(double, n),
           *tv = T_NEW(double, n);
    memcpy(rw, w.d, n * sizeof(double));
    memcpy(rv, v.d, n * sizeof(double));
    float *ow = T_NEW(float, n), *ov = T_NEW(float, n), *g = T_NEW(float, n);
    double *gd = T_NEW(double, n);
    /* The device state after each step is fed back to the reference (the op is elementwise),
     * so each step is checked against one exact step from the same floats:
     *   g' = g + wd w      err u(|g| + 2|wd w|)
     *   v  = m v + g'      err u(2|m v| + |g'|) + e(g')
     *   w -= lr v          err u(|w_new| + 2 lr |v|) + lr e(v);   factor 2 */
    const double dlr = lr, dm = momentum, dwd = wd;
    for (int s = 0; s < steps; s++) {
        tfill_uniform(&rng, g, gd, n, -1, 1);
        tbuf_write(&dev, bg, g);
        T_MBN(mbn_op_sgd(&dev, tb(bw), tb(bg), tb(bv), n, lr, momentum, wd));
        tbuf_read(&dev, bw, ow);
        tbuf_read(&dev, bv, ov);
        for (size_t i = 0; i < n; i++) {
            double gp = gd[i] + dwd * rw[i];
            double e_gp = T_U * (fabs(gd[i]) + 2 * fabs(dwd * rw[i]));
            double vn = dm * rv[i] + gp;
            double e_v = T_U * (2 * fabs(dm * rv[i]) + fabs(gp)) + e_gp;
            double wn = rw[i] - dlr * vn;
            tv[i] = 2 * e_v;
            tw[i] = 2 * (T_U * (fabs(wn) + 2 * dlr * fabs(vn)) + dlr * e_v);
            rv[i] = vn;
            rw[i] = wn;
        }
        char what[96];
        snprintf(what, sizeof what, "sgd n%zu lr%g m%g wd%g step %d: w", n, (double)lr,
                 (double)momentum, (double)wd, s + 1);
        T_OK(tcheck(what, ow, rw, tw, 0.0, n));
        T_OK(tcheck("  momentum", ov, rv, tv, 0.0, n));
        tf2d(ow, rw, n);
        tf2d(ov, rv, n);
    }
    T_OK(tbuf_guards_ok(&dev, bw, "sgd w") && tbuf_guards_ok(&dev, bv, "sgd v") &&
         tbuf_guards_ok(&dev, bg, "sgd g"));
    /* Determinism: the same start and gradient twice gives the same bits. */
    float *a = T_NEW(float, n), *b = T_NEW(float, n);
    for (int run = 0; run < 2; run++) {
        tbuf_write(&dev, bw, w.f);
        tbuf_write(&dev, bv, v.f);
        T_MBN(mbn_op_sgd(&dev, tb(bw), tb(bg), tb(bv), n, lr, momentum, wd));
        tbuf_read(&dev, bw, run ? b : a);
    }
    T_OK(tsame_bits("  sgd twice", a, b, n));
    tbuf_free(&bw), tbuf_free(&bv), tbuf_free(&bg);
    tfree(&w), tfree(&v);
    free(rw), free(rv), free(tw), free(tv), free(ow), free(ov), free(g), free(gd), free(a), free(b);
}

static void test_fill_zero(size_t n, size_t off) {
    TBuf b = tbuf_new_fill(&dev, GARBAGE, n, off);
    T_MBN(mbn_op_fill_zero(&dev, tb(b), n));
    float *o = T_NEW(float, n);
    tbuf_read(&dev, b, o);
    size_t nz = 0;
    for (size_t i = 0; i < n; i++)
        nz += o[i] != 0.0f;
    T_CHECK(nz == 0, "fill_zero n=%zu: %zu nonzero", n, nz);
    T_OK(tbuf_guards_ok(&dev, b, "fill_zero"));
    printf("ok   fill_zero n=%zu off=%zu\n", n, off);
    tbuf_free(&b);
    free(o);
}

int main(void) {
    tdev_open(&dev);
    mbn_rng_seed(&rng, 2002);
    if (t_small_shapes()) { /* as test_ops_forward's small shapes: the ops op_bench does not run */
        test_avgpool_bwd(2, 9, 13);
        test_fc_bwd(2, 37, 10, 1);
        test_fc_bwd(5, 13, 3, 0);
        test_xent(3, 10, 0.1f, 3.0);
        test_xent(4, 37, 0.0f, 5.0);
        test_sgd(103, 13, 0.05f, 0.9f, 1e-4f, 3);
        test_fill_zero(103, 5);
        mbn_device_close(&dev);
        return t_summary("test_ops_backward (small shapes)");
    }
    test_stem_bwd_weight(1, 7, 7, 8, 2);
    test_stem_bwd_weight(3, 15, 9, 13, 2);
    test_stem_bwd_weight(2, 9, 9, 5, 1);
    test_stem_bwd_weight(4, 32, 32, 8, 2);
    test_stem_bwd_weight(5, 100, 100, 8,
                         1); /* M = 50000: split-K with a remainder (CLBlast path) */
    /* dw: single chunk, several, an uneven last chunk (8*129 rows -> 32 chunks of 33 with 9
     * left), stride 2 on odd and even sizes */
    test_dw_bwd(1, 7, 7, 3, 1);
    test_dw_bwd(2, 9, 9, 13, 2);
    test_dw_bwd(3, 15, 15, 37, 1);
    test_dw_bwd(2, 8, 8, 24, 2);
    test_dw_bwd(2, 2, 3, 5, 2);
    test_dw_bwd(1, 1, 1, 5, 1);
    test_dw_bwd(8, 129, 9, 5, 1);
    test_dw_bwd(4, 64, 64, 8, 2);
    /* channel counts that take the 16-wide CPU kernels: odd and even sizes, both strides, edge
     * columns only (width 1 and 2), many row chunks */
    test_dw_bwd(2, 9, 7, 32, 1);
    test_dw_bwd(2, 15, 15, 16, 2);
    test_dw_bwd(2, 8, 8, 32, 2);
    test_dw_bwd(1, 2, 2, 48, 2);
    test_dw_bwd(1, 1, 1, 16, 1);
    test_dw_bwd(3, 5, 2, 64, 1);
    test_dw_bwd(4, 40, 12, 16, 1);
    test_pw_bwd(7, 3, 5);
    test_pw_bwd(49, 13, 24);
    test_pw_bwd(162, 37, 13);
    test_pw_bwd(1, 8, 8);
    test_pw_bwd(450, 64, 128);
    test_bn_bwd(7, 5);
    test_bn_bwd(49, 13);
    test_bn_bwd(1000, 37);
    test_bn_bwd(1039, 24);
    test_bn_bwd(20000, 3);
    test_avgpool_bwd(2, 49, 13);
    test_avgpool_bwd(3, 1, 37);
    test_avgpool_bwd(4, 225, 24);
    test_fc_bwd(2, 37, 10, 1);
    test_fc_bwd(5, 13, 3, 1);
    test_fc_bwd(1, 8, 2, 1);
    test_fc_bwd(8, 256, 10, 0);
    test_fc_bwd(64, 24, 7, 1);
    test_xent(3, 10, 0.1f, 3.0);
    test_xent(5, 2, 0.1f, 1.0);
    test_xent(8, 37, 0.0f, 5.0);
    test_xent(4, 1001, 0.1f, 20.0);
    test_sgd(1000, 0, 0.1f, 0.9f, 0.0f, 3);
    test_sgd(1037, 13, 0.05f, 0.9f, 1e-4f, 3);
    test_sgd(5, 3, 1.0f, 0.0f, 0.5f, 2);
    test_fill_zero(1, 3);
    test_fill_zero(1037, 5);
    /* random shapes (fixed seed): sizes 1..17, channels 1..40, batch 1..4, stride 1 or 2 */
    MbnRng shapes;
    mbn_rng_seed(&shapes, 88);
    for (int i = 0; i < 8; i++) {
        int N = t_rand_int(&shapes, 1, 4), H = t_rand_int(&shapes, 1, 17),
            W = t_rand_int(&shapes, 1, 17);
        int C = t_rand_int(&shapes, 1, 40), C2 = t_rand_int(&shapes, 1, 40),
            s = t_rand_int(&shapes, 1, 2);
        printf("-- random shape %d: N%d H%d W%d C%d C2 %d stride %d\n", i, N, H, W, C, C2, s);
        test_stem_bwd_weight(N, H, W, C, s);
        test_dw_bwd(N, H, W, C, s);
        test_pw_bwd((size_t)N * H * W, C, C2);
        if ((size_t)N * H * W > 1) test_bn_bwd((size_t)N * H * W, C);
        test_avgpool_bwd(N, H * W, C);
        test_fc_bwd(N, C, C2 + 1, i % 3 != 0);
        test_xent(N, C2 + 1, i % 2 ? 0.1f : 0.0f, 4.0);
    }
    mbn_device_close(&dev);
    return t_summary("test_ops_backward");
}
