/* Every forward device op of model/ops.h against the double-precision references
 * (tests/support/ref.c), on random inputs and awkward shapes: odd spatial sizes, stride 1 and 2,
 * channel counts that are not multiples of 4/8/16, batch 1 and several, tensors at odd offsets
 * inside their buffers with guard zones around them (an out-of-bounds write or an ignored offset
 * fails), outputs pre-filled with garbage (the op must overwrite, not accumulate), inputs checked
 * unmodified. Every op runs twice, its outputs poisoned before each run (so a run that writes
 * nothing cannot pass on the previous one's result), and must give bit-identical outputs (no
 * atomics, fixed reduction order: ops.h), which covers the reductions (BN statistics, pooling,
 * FC).
 *
 * Tolerances are rigorous first-order float32 error bounds, computed per element from the
 * magnitudes involved, never a blanket epsilon:
 *   - a sum of K products accumulated in float in any order (CLBlast's tiling, the two-stage
 *     chunked reductions) is off by at most about (K + 2) * u * sum|terms| with u = 2^-24
 *     (Higham, Accuracy and Stability of Numerical Algorithms, eq. 3.5; +1 for the product
 *     rounding when no FMA is used, +1 for a final scale); sum|terms| is obtained by running the
 *     reference on |inputs|;
 *   - elementwise chains get a few u per operation; OpenCL 1.2 allows sqrt and exp/log 3 ulp and
 *     division 2.5 ulp, hence the factors 3 and the final safety factor 2 where they appear.
 * A wrong index, a missing term or a wrong constant produces errors of the size of the terms
 * themselves, i.e. orders of magnitude above these bounds. Seeds are fixed. */
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

/* ---- stem ---- */
static void test_stem(int N, int H, int W, int Cout, int s) {
    int Ho = ref_out(H, s), Wo = ref_out(W, s);
    size_t M = (size_t)N * Ho * Wo;
    char what[96];
    Tensor x = tnew((size_t)N * H * W * 3, -2.5, 2.5), w = tnew((size_t)Cout * 27, -0.5, 0.5);
    TBuf bx = tbuf_new(&dev, x.f, x.n, 3), bw = tbuf_new(&dev, w.f, w.n, 5);
    TBuf bp = tbuf_new_fill(&dev, GARBAGE, M * 27, 11),
         bz = tbuf_new_fill(&dev, GARBAGE, M * Cout, 7);
    float *p1 = T_NEW(float, M * 27), *p2 = T_NEW(float, M * 27);
    float *z1 = T_NEW(float, M *Cout), *z2 = T_NEW(float, M *Cout);
    for (int run = 0; run < 2; run++) {
        tbuf_poison(&dev, bp, GARBAGE);
        tbuf_poison(&dev, bz, GARBAGE);
        T_MBN(mbn_op_stem_im2col(&dev, tb(bx), N, H, W, s, tb(bp)));
        tbuf_read(&dev, bp, run ? p2 : p1);
        T_MBN(mbn_op_stem_gemm(&dev, tb(bp), tb(bw), tb(bz), M, Cout));
        tbuf_read(&dev, bz, run ? z2 : z1);
    }
    /* im2col is a pure copy: exact */
    double *pref = T_NEW(double, M * 27);
    ref_stem_im2col(x.d, N, H, W, s, pref);
    snprintf(what, sizeof what, "stem_im2col N%d %dx%d s%d", N, H, W, s);
    T_OK(tcheck(what, p1, pref, NULL, 0.0, M * 27));
    /* gemm: 27 terms */
    double *zref = T_NEW(double, M *Cout), *zabs = T_NEW(double, M *Cout);
    double *xa = dabs(x.d, x.n), *wa = dabs(w.d, w.n);
    ref_stem_fwd(x.d, w.d, zref, N, H, W, Cout, s);
    ref_stem_fwd(xa, wa, zabs, N, H, W, Cout, s);
    double *tol = sum_tol(zabs, M * Cout, 27);
    snprintf(what, sizeof what, "stem_gemm N%d %dx%d s%d Cout%d", N, H, W, s, Cout);
    T_OK(tcheck(what, z1, zref, tol, 0.0, M * Cout));
    T_OK(tsame_bits("stem_im2col twice", p1, p2, M * 27));
    T_OK(tsame_bits("stem_gemm twice", z1, z2, M * Cout));
    T_OK(tbuf_guards_ok(&dev, bp, "stem patches") && tbuf_guards_ok(&dev, bz, "stem z"));
    T_OK(tbuf_unchanged(&dev, bx, x.f, "stem x") && tbuf_unchanged(&dev, bw, w.f, "stem w"));
    tbuf_free(&bx), tbuf_free(&bw), tbuf_free(&bp), tbuf_free(&bz);
    tfree(&x), tfree(&w);
    free(p1), free(p2), free(z1), free(z2), free(pref), free(zref), free(zabs), free(xa), free(wa),
        free(tol);
}

/* ---- stem as the network runs it: mbn_op_stem_fwd on the transposed weight ---- */
/* Against the reference conv (+ bias, ReLU6), and where the device's gemm row is gemm.cl's
 * (the direct kernel's claim) bit for bit against im2col + mbn_op_pw_fwd_t. Cout % 16 == 0
 * takes the direct row of the cpu family (16 + 32k: its 16-channel last block); other counts
 * its fallback. */
static void test_stem_fwd(int N, int H, int W, int Cout, int s, int with_bias) {
    int Ho = ref_out(H, s), Wo = ref_out(W, s);
    size_t M = (size_t)N * Ho * Wo, ny = M * Cout;
    char what[96];
    Tensor x = tnew((size_t)N * H * W * 3, -2.5, 2.5), w = tnew((size_t)Cout * 27, -0.5, 0.5),
           b = tnew((size_t)Cout, -1, 3);
    TBuf bx = tbuf_new(&dev, x.f, x.n, 3), bw = tbuf_new(&dev, w.f, w.n, 5),
         bb = tbuf_new(&dev, b.f, b.n, 2), bwt = tbuf_new_fill(&dev, GARBAGE, w.n, 9),
         bp = tbuf_new_fill(&dev, GARBAGE, M * 27, 11), by = tbuf_new_fill(&dev, GARBAGE, ny, 7);
    MbnBuf bias = with_bias ? tb(bb) : MBN_NOBUF;
    T_MBN(mbn_op_transpose(&dev, tb(bw), tb(bwt), Cout, 27));
    float *y[3];
    for (int run = 0; run < 3; run++) {
        y[run] = T_NEW(float, ny);
        tbuf_poison(&dev, by, GARBAGE);
        if (run < 2) {
            T_MBN(mbn_op_stem_fwd(&dev, tb(bx), tb(bwt), bias, tb(by), N, H, W, s, Cout, tb(bp)));
        } else { /* the im2col path */
            T_MBN(mbn_op_stem_im2col(&dev, tb(bx), N, H, W, s, tb(bp)));
            T_MBN(mbn_op_pw_fwd_t(&dev, tb(bp), tb(bwt), bias, tb(by), M, 27, Cout));
        }
        tbuf_read(&dev, by, y[run]);
    }
    double *yref = T_NEW(double, ny), *yabs = T_NEW(double, ny);
    double *xa = dabs(x.d, x.n), *wa = dabs(w.d, w.n);
    ref_stem_fwd(x.d, w.d, yref, N, H, W, Cout, s);
    ref_stem_fwd(xa, wa, yabs, N, H, W, Cout, s);
    /* 27 products, + the bias (one more term); clamp is 1-Lipschitz */
    for (size_t i = 0; with_bias && i < ny; i++) {
        yref[i] = fmin(fmax(yref[i] + b.d[i % Cout], 0.0), 6.0);
        yabs[i] += fabs(b.d[i % Cout]);
    }
    double *tol = sum_tol(yabs, ny, 28);
    snprintf(what, sizeof what, "stem_fwd%s N%d %dx%d s%d Cout%d", with_bias ? "+bias" : "", N, H,
             W, s, Cout);
    T_OK(tcheck(what, y[0], yref, tol, 0.0, ny));
    T_OK(tsame_bits("stem_fwd twice", y[0], y[1], ny));
    if (dev.variants.op[MBN_OP_GEMM].row->family == MBN_FAMILY_CPU)
        T_OK(tsame_bits("stem_fwd against im2col + gemm_tiled", y[0], y[2], ny));
    T_OK(tbuf_guards_ok(&dev, by, "stem_fwd y"));
    T_OK(tbuf_unchanged(&dev, bx, x.f, "stem_fwd x") &&
         tbuf_unchanged(&dev, bw, w.f, "stem_fwd w"));
    tbuf_free(&bx), tbuf_free(&bw), tbuf_free(&bb), tbuf_free(&bwt), tbuf_free(&bp), tbuf_free(&by);
    tfree(&x), tfree(&w), tfree(&b);
    for (int run = 0; run < 3; run++)
        free(y[run]);
    free(yref), free(yabs), free(xa), free(wa), free(tol);
}

/* ---- depthwise (plain, and with the folded bias + ReLU6 epilogue) ---- */
static void test_dw(int N, int H, int W, int C, int s, int with_bias) {
    int Ho = ref_out(H, s), Wo = ref_out(W, s);
    size_t ny = (size_t)N * Ho * Wo * C;
    char what[96];
    Tensor x = tnew((size_t)N * H * W * C, -3, 3), w = tnew(9 * (size_t)C, -1, 1),
           b = tnew((size_t)C, -2, 5);
    TBuf bx = tbuf_new(&dev, x.f, x.n, 1), bw = tbuf_new(&dev, w.f, w.n, 9),
         bb = tbuf_new(&dev, b.f, b.n, 2), by = tbuf_new_fill(&dev, GARBAGE, ny, 13);
    float *y1 = T_NEW(float, ny), *y2 = T_NEW(float, ny);
    for (int run = 0; run < 2; run++) {
        tbuf_poison(&dev, by, GARBAGE);
        T_MBN(mbn_op_dw_fwd(&dev, tb(bx), tb(bw), with_bias ? tb(bb) : MBN_NOBUF, tb(by), N, H, W,
                            C, s));
        tbuf_read(&dev, by, run ? y2 : y1);
    }
    double *yref = T_NEW(double, ny), *yabs = T_NEW(double, ny);
    double *xa = dabs(x.d, x.n), *wa = dabs(w.d, w.n), *ba = dabs(b.d, b.n);
    ref_dw_fwd(x.d, w.d, with_bias ? b.d : NULL, yref, N, H, W, C, s);
    /* 9 products (+ the bias): clamp is 1-Lipschitz so the bound carries through it */
    ref_dw_fwd(xa, wa, NULL, yabs, N, H, W, C, s);
    double *tol = T_NEW(double, ny);
    for (size_t i = 0; i < ny; i++)
        tol[i] = (9 + 3) * T_U * (yabs[i] + (with_bias ? ba[i % C] : 0.0));
    snprintf(what, sizeof what, "dw_fwd%s N%d %dx%d C%d s%d", with_bias ? "+bias" : "", N, H, W, C,
             s);
    T_OK(tcheck(what, y1, yref, tol, 0.0, ny));
    T_OK(tsame_bits("dw_fwd twice", y1, y2, ny));
    T_OK(tbuf_guards_ok(&dev, by, "dw y"));
    T_OK(tbuf_unchanged(&dev, bx, x.f, "dw x") && tbuf_unchanged(&dev, bw, w.f, "dw w"));
    tbuf_free(&bx), tbuf_free(&bw), tbuf_free(&bb), tbuf_free(&by);
    tfree(&x), tfree(&w), tfree(&b);
    free(y1), free(y2), free(yref), free(yabs), free(xa), free(wa), free(ba), free(tol);
}

/* ---- depthwise + pointwise as inference runs them: mbn_op_dwpw_fwd ---- */
/* Against the double reference relu6(pw(relu6(dw(x) + b1)) + b2), and where the device runs
 * the cpu depthwise and GEMM rows, bit for bit against mbn_op_dw_fwd + mbn_op_pw_fwd_t (the
 * fused kernel's claim). fused: whether mbn_op_dwpw_fused must say the shape runs fused on the
 * cpu family (C a multiple of the device's vector width, Cout of the GEMM tile's TN, enough
 * pixels or rows that fill the tile), so a fused path that silently stopped running would
 * fail. y_dw is written only when not fused; it is not checked. */
static void test_dwpw(int N, int H, int W, int C, int s, int Cout) {
    int Ho = ref_out(H, s), Wo = ref_out(W, s);
    size_t M = (size_t)N * Ho * Wo, nd = M * C, ny = M * Cout;
    char what[96];
    Tensor x = tnew((size_t)N * H * W * C, -3, 3), w1 = tnew(9 * (size_t)C, -1, 1),
           b1 = tnew((size_t)C, -2, 5), w2 = tnew((size_t)Cout * C, -0.5, 0.5),
           b2 = tnew((size_t)Cout, -2, 3);
    TBuf bx = tbuf_new(&dev, x.f, x.n, 1), bw1 = tbuf_new(&dev, w1.f, w1.n, 9),
         bb1 = tbuf_new(&dev, b1.f, b1.n, 2), bw2 = tbuf_new(&dev, w2.f, w2.n, 3),
         bb2 = tbuf_new(&dev, b2.f, b2.n, 6), bwt = tbuf_new_fill(&dev, GARBAGE, w2.n, 4),
         bd = tbuf_new_fill(&dev, GARBAGE, nd, 5), by = tbuf_new_fill(&dev, GARBAGE, ny, 13);
    T_MBN(mbn_op_transpose(&dev, tb(bw2), tb(bwt), Cout, C));
    bool fused = mbn_op_dwpw_fused(&dev, Ho, Wo, C, Cout);
    bool cpu = dev.variants.op[MBN_OP_DWPW_FWD].row->family == MBN_FAMILY_CPU;
    const MbnVariantChoice *dwpw = &dev.variants.op[MBN_OP_DWPW_FWD];
    int vec = dev.variants.cpu_vec;
    bool want = cpu && C % vec == 0 && Cout % (2 * vec) == 0 &&
                (Ho * Wo >= mbn_vparam(dwpw, "MIN_PIXELS") ||
                 (mbn_vparam(dwpw, "EXACT_ROWS") &&
                  Wo % mbn_vparam(&dev.variants.op[MBN_OP_GEMM], "TM") == 0));
    T_CHECK(fused == want, "dwpw C%d Cout%d %dx%d: fused %d, expected %d", C, Cout, Ho, Wo, fused,
            want);
    float *y[3];
    for (int run = 0; run < 3; run++) {
        y[run] = T_NEW(float, ny);
        tbuf_poison(&dev, by, GARBAGE);
        if (run < 2) {
            T_MBN(mbn_op_dwpw_fwd(&dev, tb(bx), tb(bw1), tb(bb1), tb(bwt), tb(bb2), tb(bd), tb(by),
                                  N, H, W, C, s, Cout));
        } else { /* the two ops */
            T_MBN(mbn_op_dw_fwd(&dev, tb(bx), tb(bw1), tb(bb1), tb(bd), N, H, W, C, s));
            T_MBN(mbn_op_pw_fwd_t(&dev, tb(bd), tb(bwt), tb(bb2), tb(by), M, C, Cout));
        }
        tbuf_read(&dev, by, y[run]);
    }
    double *d = T_NEW(double, nd), *dabs_ = T_NEW(double, nd);
    double *yref = T_NEW(double, ny), *yabs = T_NEW(double, ny);
    double *xa = dabs(x.d, x.n), *w1a = dabs(w1.d, w1.n), *w2a = dabs(w2.d, w2.n);
    ref_dw_fwd(x.d, w1.d, b1.d, d, N, H, W, C, s);
    ref_pw_fwd(d, w2.d, yref, M, C, Cout);
    ref_dw_fwd(xa, w1a, NULL, dabs_, N, H, W, C, s);
    for (size_t i = 0; i < nd; i++)
        dabs_[i] += fabs(b1.d[i % C]);
    ref_pw_fwd(dabs_, w2a, yabs, M, C, Cout);
    /* The depthwise outputs are off by at most 12 u of their magnitude bound dabs_ (9 products
     * and the bias, as in test_dw); through the pointwise sum that is 12 u * yabs, plus the
     * sum's own (C + 2) u * yabs and the bias (1 more term); the clamps are 1-Lipschitz. */
    double *tol = T_NEW(double, ny);
    for (size_t i = 0; i < ny; i++) {
        yref[i] = fmin(fmax(yref[i] + b2.d[i % Cout], 0.0), 6.0);
        tol[i] = (C + 15) * T_U * (yabs[i] + fabs(b2.d[i % Cout]));
    }
    snprintf(what, sizeof what, "dwpw_fwd%s N%d %dx%d C%d s%d Cout%d", fused ? "(fused)" : "", N, H,
             W, C, s, Cout);
    T_OK(tcheck(what, y[0], yref, tol, 0.0, ny));
    T_OK(tsame_bits("dwpw_fwd twice", y[0], y[1], ny));
    if (dev.variants.op[MBN_OP_GEMM].row->family == MBN_FAMILY_CPU &&
        dev.variants.op[MBN_OP_DW_FWD].row->family == MBN_FAMILY_CPU)
        T_OK(tsame_bits("dwpw_fwd against dw_fwd + pw_fwd_t", y[0], y[2], ny));
    T_OK(tbuf_guards_ok(&dev, by, "dwpw y") && tbuf_guards_ok(&dev, bd, "dwpw y_dw"));
    T_OK(tbuf_unchanged(&dev, bx, x.f, "dwpw x") && tbuf_unchanged(&dev, bw2, w2.f, "dwpw w"));
    tbuf_free(&bx), tbuf_free(&bw1), tbuf_free(&bb1), tbuf_free(&bw2), tbuf_free(&bb2),
        tbuf_free(&bwt), tbuf_free(&bd), tbuf_free(&by);
    tfree(&x), tfree(&w1), tfree(&b1), tfree(&w2), tfree(&b2);
    for (int run = 0; run < 3; run++)
        free(y[run]);
    free(d), free(dabs_), free(yref), free(yabs), free(xa), free(w1a), free(w2a), free(tol);
}

/* ---- pointwise ---- */
static void test_pw(size_t M, int Cin, int Cout) {
    char what[96];
    Tensor x = tnew(M * Cin, -2, 6), w = tnew((size_t)Cout * Cin, -0.5, 0.5);
    TBuf bx = tbuf_new(&dev, x.f, x.n, 3), bw = tbuf_new(&dev, w.f, w.n, 17),
         by = tbuf_new_fill(&dev, GARBAGE, M * Cout, 5);
    float *y1 = T_NEW(float, M *Cout), *y2 = T_NEW(float, M *Cout);
    for (int run = 0; run < 2; run++) {
        tbuf_poison(&dev, by, GARBAGE);
        T_MBN(mbn_op_pw_fwd(&dev, tb(bx), tb(bw), tb(by), M, Cin, Cout));
        tbuf_read(&dev, by, run ? y2 : y1);
    }
    double *yref = T_NEW(double, M *Cout), *yabs = T_NEW(double, M *Cout);
    double *xa = dabs(x.d, x.n), *wa = dabs(w.d, w.n);
    ref_pw_fwd(x.d, w.d, yref, M, Cin, Cout);
    ref_pw_fwd(xa, wa, yabs, M, Cin, Cout);
    double *tol = sum_tol(yabs, M * Cout, Cin);
    snprintf(what, sizeof what, "pw_fwd M%zu Cin%d Cout%d", M, Cin, Cout);
    T_OK(tcheck(what, y1, yref, tol, 0.0, M * Cout));
    T_OK(tsame_bits("pw_fwd twice", y1, y2, M * Cout));
    T_OK(tbuf_guards_ok(&dev, by, "pw y"));
    T_OK(tbuf_unchanged(&dev, bx, x.f, "pw x") && tbuf_unchanged(&dev, bw, w.f, "pw w"));
    tbuf_free(&bx), tbuf_free(&bw), tbuf_free(&by);
    tfree(&x), tfree(&w);
    free(y1), free(y2), free(yref), free(yabs), free(xa), free(wa), free(tol);
}

/* ---- BN (training) + ReLU6 ---- */
static void test_bn_train(size_t M, int C, double zshift) {
    char what[96];
    const float momentum = 0.1f, eps = 1e-5f;
    /* z with a per-channel offset (zshift) to exercise the two-pass variance */
    Tensor z = tnew(M * C, -2 + zshift, 3 + zshift), gamma = tnew(C, -0.5, 2),
           beta = tnew(C, -1, 4), rm = tnew(C, -1, 1), rv = tnew(C, 0.5, 2);
    size_t scratch_n = mbn_net_scratch_floats(M, C);
    TBuf bz = tbuf_new(&dev, z.f, z.n, 7), bg = tbuf_new(&dev, gamma.f, C, 1),
         bb = tbuf_new(&dev, beta.f, C, 3), brm = tbuf_new(&dev, rm.f, C, 5),
         brv = tbuf_new(&dev, rv.f, C, 6), by = tbuf_new_fill(&dev, GARBAGE, M * C, 9);
    /* save_mean and save_invstd must share an offset (ops.c) */
    TBuf bsm = tbuf_new_fill(&dev, GARBAGE, C, 4), bsi = tbuf_new_fill(&dev, GARBAGE, C, 4);
    TBuf bs = tbuf_new_fill(&dev, GARBAGE, scratch_n, 0);
    float *y[2] = {T_NEW(float, M *C), T_NEW(float, M *C)};
    float *sm[2] = {T_NEW(float, C), T_NEW(float, C)}, *si[2] = {T_NEW(float, C), T_NEW(float, C)};
    float *orm[2] = {T_NEW(float, C), T_NEW(float, C)},
          *orv[2] = {T_NEW(float, C), T_NEW(float, C)};
    for (int run = 0; run < 2; run++) {
        tbuf_poison(&dev, by, GARBAGE);
        tbuf_poison(&dev, bsm, GARBAGE);
        tbuf_poison(&dev, bsi, GARBAGE);
        tbuf_write(&dev, brm, rm.f);
        tbuf_write(&dev, brv, rv.f);
        T_MBN(mbn_op_bn_relu6_train(&dev, tb(bz), tb(bg), tb(bb), tb(brm), tb(brv), momentum, eps,
                                    M, C, tb(by), tb(bsm), tb(bsi), tb(bs)));
        tbuf_read(&dev, by, y[run]);
        tbuf_read(&dev, bsm, sm[run]);
        tbuf_read(&dev, bsi, si[run]);
        tbuf_read(&dev, brm, orm[run]);
        tbuf_read(&dev, brv, orv[run]);
    }
    double *yref = T_NEW(double, M *C), *mean = T_NEW(double, C), *is = T_NEW(double, C);
    double *rmr = T_NEW(double, C), *rvr = T_NEW(double, C);
    memcpy(rmr, rm.d, C * sizeof(double));
    memcpy(rvr, rv.d, C * sizeof(double));
    ref_bn_relu6_train(z.d, gamma.d, beta.d, rmr, rvr, (double)momentum, (double)eps, M, C, yref,
                       mean, is);
    /* Error bounds (first order), per channel:
     *   e_mu  = (M + 2) u mean|z|                     M-term sum, then * (1/M)
     *   e_var = (M + 4) u var + e_mu^2                M-term sum of (z - mu)^2 (two-pass)
     *   r_is  = e_var / (2 (var + eps)) + 7 u         sqrt 3 ulp, division 2.5 ulp, add 1
     *   y:   |gamma| is (e_mu + u|z - mu|) + |gamma xhat| (r_is + 4u) + 2u (|gamma xhat| + |beta|)
     * all times a safety factor 2. */
    double *tol_y = T_NEW(double, M *C), *tol_m = T_NEW(double, C), *tol_i = T_NEW(double, C),
           *tol_rm = T_NEW(double, C), *tol_rv = T_NEW(double, C);
    for (int c = 0; c < C; c++) {
        double sa = 0, ss = 0;
        for (size_t m = 0; m < M; m++) {
            sa += fabs(z.d[m * C + c]);
            ss += (z.d[m * C + c] - mean[c]) * (z.d[m * C + c] - mean[c]);
        }
        double var = ss / M, e_mu = (M + 2) * T_U * sa / M;
        double e_var = (M + 4) * T_U * var + e_mu * e_mu;
        double r_is = e_var / (2 * (var + eps)) + 7 * T_U;
        tol_m[c] = 2 * e_mu;
        tol_i[c] = 2 * is[c] * r_is;
        double m = momentum, unb = M > 1 ? ss / (M - 1) : var;
        tol_rm[c] = 2 * (m * e_mu + 3 * T_U * (fabs((1 - m) * rm.d[c]) + fabs(m * mean[c])));
        tol_rv[c] = 2 * (m * (e_var * M / (M > 1 ? M - 1 : 1) + 2 * T_U * unb) +
                         3 * T_U * (fabs((1 - m) * rv.d[c]) + m * unb));
        for (size_t r = 0; r < M; r++) {
            double d = z.d[r * C + c] - mean[c], gx = fabs(gamma.d[c] * d * is[c]);
            tol_y[r * C + c] = 2 * (fabs(gamma.d[c]) * is[c] * (e_mu + T_U * fabs(d)) +
                                    gx * (r_is + 4 * T_U) + 2 * T_U * (gx + fabs(beta.d[c])));
        }
    }
    snprintf(what, sizeof what, "bn_relu6_train y M%zu C%d", M, C);
    T_OK(tcheck(what, y[0], yref, tol_y, 0.0, M * C));
    T_OK(tcheck("  save_mean", sm[0], mean, tol_m, 0.0, C));
    T_OK(tcheck("  save_invstd", si[0], is, tol_i, 0.0, C));
    T_OK(tcheck("  running_mean", orm[0], rmr, tol_rm, 0.0, C));
    T_OK(tcheck("  running_var (unbiased)", orv[0], rvr, tol_rv, 0.0, C));
    T_OK(tsame_bits("  bn y twice", y[0], y[1], M * C));
    T_OK(tsame_bits("  bn save_mean twice", sm[0], sm[1], C));
    T_OK(tsame_bits("  bn save_invstd twice", si[0], si[1], C));
    T_OK(tsame_bits("  bn running_mean twice", orm[0], orm[1], C));
    T_OK(tsame_bits("  bn running_var twice", orv[0], orv[1], C));
    T_OK(tbuf_guards_ok(&dev, by, "bn y") && tbuf_guards_ok(&dev, bsm, "bn save_mean") &&
         tbuf_guards_ok(&dev, bsi, "bn save_invstd") && tbuf_guards_ok(&dev, brm, "bn rm") &&
         tbuf_guards_ok(&dev, brv, "bn rv"));
    T_OK(tbuf_unchanged(&dev, bz, z.f, "bn z") && tbuf_unchanged(&dev, bg, gamma.f, "bn gamma") &&
         tbuf_unchanged(&dev, bb, beta.f, "bn beta"));
    TBuf *all[] = {&bz, &bg, &bb, &brm, &brv, &by, &bsm, &bsi, &bs};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        tbuf_free(all[i]);
    tfree(&z), tfree(&gamma), tfree(&beta), tfree(&rm), tfree(&rv);
    for (int i = 0; i < 2; i++)
        free(y[i]), free(sm[i]), free(si[i]), free(orm[i]), free(orv[i]);
    free(yref), free(mean), free(is), free(rmr), free(rvr), free(tol_y), free(tol_m), free(tol_i),
        free(tol_rm), free(tol_rv);
}

/* ---- BN fold ---- */
static void test_bn_fold(int C, int K, int channel_minor) {
    char what[96];
    const float eps = 1e-5f;
    Tensor w = tnew((size_t)C * K, -1, 1), gamma = tnew(C, -2, 2), beta = tnew(C, -1, 1),
           mean = tnew(C, -3, 3), var = tnew(C, 0.01, 4);
    TBuf bw = tbuf_new(&dev, w.f, w.n, 3), bg = tbuf_new(&dev, gamma.f, C, 5),
         bb = tbuf_new(&dev, beta.f, C, 6), bm = tbuf_new(&dev, mean.f, C, 7),
         bv = tbuf_new(&dev, var.f, C, 8), bwo = tbuf_new_fill(&dev, GARBAGE, w.n, 9),
         bbo = tbuf_new_fill(&dev, GARBAGE, C, 10);
    float *wo[2] = {T_NEW(float, w.n), T_NEW(float, w.n)},
          *bo[2] = {T_NEW(float, C), T_NEW(float, C)};
    for (int run = 0; run < 2; run++) {
        tbuf_poison(&dev, bwo, GARBAGE);
        tbuf_poison(&dev, bbo, GARBAGE);
        T_MBN(mbn_op_bn_fold(&dev, tb(bw), tb(bg), tb(bb), tb(bm), tb(bv), eps, C, K,
                             channel_minor != 0, tb(bwo), tb(bbo)));
        tbuf_read(&dev, bwo, wo[run]);
        tbuf_read(&dev, bbo, bo[run]);
    }
    double *wr = T_NEW(double, w.n), *br = T_NEW(double, C);
    ref_bn_fold(w.d, gamma.d, beta.d, mean.d, var.d, (double)eps, C, K, channel_minor, wr, br);
    /* s = gamma / sqrt(var + eps): add 1u, sqrt 3u, division 2.5u -> 7u; w*s one more; the bias
     * beta - mean*s: |mean s| (7u + 1u) + u|b|; safety factor 2 */
    double *tw = T_NEW(double, w.n), *tbb = T_NEW(double, C);
    for (int c = 0; c < C; c++) {
        double s = fabs(gamma.d[c]) / sqrt(var.d[c] + eps);
        tbb[c] = 2 * (8 * T_U * fabs(mean.d[c]) * s + T_U * (fabs(br[c]) + fabs(beta.d[c])));
        for (int k = 0; k < K; k++) {
            size_t i = channel_minor ? (size_t)k * C + c : (size_t)c * K + k;
            tw[i] = 2 * 8 * T_U * fabs(wr[i]);
        }
    }
    snprintf(what, sizeof what, "bn_fold w C%d K%d %s", C, K, channel_minor ? "[K,C]" : "[C,K]");
    T_OK(tcheck(what, wo[0], wr, tw, 0.0, w.n));
    T_OK(tcheck("  bn_fold bias", bo[0], br, tbb, 0.0, C));
    T_OK(tsame_bits("  bn_fold twice", wo[0], wo[1], w.n));
    T_OK(tbuf_guards_ok(&dev, bwo, "fold w") && tbuf_guards_ok(&dev, bbo, "fold b"));
    TBuf *all[] = {&bw, &bg, &bb, &bm, &bv, &bwo, &bbo};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        tbuf_free(all[i]);
    tfree(&w), tfree(&gamma), tfree(&beta), tfree(&mean), tfree(&var);
    for (int i = 0; i < 2; i++)
        free(wo[i]), free(bo[i]);
    free(wr), free(br), free(tw), free(tbb);
}

/* ---- bias + ReLU6 in place ---- */
static void test_bias_relu6(size_t M, int C) {
    Tensor y = tnew(M * C, -4, 8), b = tnew(C, -2, 2);
    TBuf by = tbuf_new(&dev, y.f, y.n, 3), bb = tbuf_new(&dev, b.f, C, 4);
    float *o[2] = {T_NEW(float, y.n), T_NEW(float, y.n)};
    for (int run = 0; run < 2; run++) {
        tbuf_write(&dev, by, y.f);
        T_MBN(mbn_op_bias_relu6(&dev, tb(by), tb(bb), M, C));
        tbuf_read(&dev, by, o[run]);
    }
    double *r = T_NEW(double, y.n), *tol = T_NEW(double, y.n);
    memcpy(r, y.d, y.n * sizeof(double));
    ref_bias_relu6(r, b.d, M, C);
    for (size_t i = 0; i < y.n; i++)
        tol[i] = 2 * T_U * fabs(y.d[i] + b.d[i % C]); /* one rounded addition, x2 */
    char what[96];
    snprintf(what, sizeof what, "bias_relu6 M%zu C%d", M, C);
    T_OK(tcheck(what, o[0], r, tol, 0.0, y.n));
    T_OK(tsame_bits("  bias_relu6 twice", o[0], o[1], y.n));
    T_OK(tbuf_guards_ok(&dev, by, "bias_relu6 y"));
    tbuf_free(&by), tbuf_free(&bb);
    tfree(&y), tfree(&b);
    free(o[0]), free(o[1]), free(r), free(tol);
}

/* ---- global average pool ---- */
static void test_avgpool(int N, int HW, int C) {
    Tensor x = tnew((size_t)N * HW * C, 0, 6);
    size_t ny = (size_t)N * C;
    TBuf bx = tbuf_new(&dev, x.f, x.n, 2), by = tbuf_new_fill(&dev, GARBAGE, ny, 3);
    float *o[2] = {T_NEW(float, ny), T_NEW(float, ny)};
    for (int run = 0; run < 2; run++) {
        tbuf_poison(&dev, by, GARBAGE);
        T_MBN(mbn_op_avgpool_fwd(&dev, tb(bx), tb(by), N, HW, C));
        tbuf_read(&dev, by, o[run]);
    }
    double *r = T_NEW(double, ny), *ra = T_NEW(double, ny), *xa = dabs(x.d, x.n);
    ref_avgpool_fwd(x.d, r, N, HW, C);
    ref_avgpool_fwd(xa, ra, N, HW, C);
    double *tol = sum_tol(ra, ny, HW + 2); /* HW-term sum, then a division (2.5 ulp) */
    char what[96];
    snprintf(what, sizeof what, "avgpool_fwd N%d HW%d C%d", N, HW, C);
    T_OK(tcheck(what, o[0], r, tol, 0.0, ny));
    T_OK(tsame_bits("  avgpool twice", o[0], o[1], ny));
    T_OK(tbuf_guards_ok(&dev, by, "avgpool y"));
    tbuf_free(&bx), tbuf_free(&by);
    tfree(&x);
    free(o[0]), free(o[1]), free(r), free(ra), free(xa), free(tol);
}

/* ---- fully connected ---- */
static void test_fc(int N, int C, int K) {
    Tensor x = tnew((size_t)N * C, 0, 6), w = tnew((size_t)K * C, -0.3, 0.3), b = tnew(K, -1, 1);
    size_t ny = (size_t)N * K;
    TBuf bx = tbuf_new(&dev, x.f, x.n, 1), bw = tbuf_new(&dev, w.f, w.n, 2),
         bb = tbuf_new(&dev, b.f, K, 3), by = tbuf_new_fill(&dev, GARBAGE, ny, 4);
    float *o[2] = {T_NEW(float, ny), T_NEW(float, ny)};
    for (int run = 0; run < 2; run++) {
        tbuf_poison(&dev, by, GARBAGE);
        T_MBN(mbn_op_fc_fwd(&dev, tb(bx), tb(bw), tb(bb), tb(by), N, C, K));
        tbuf_read(&dev, by, o[run]);
    }
    double *r = T_NEW(double, ny), *ra = T_NEW(double, ny), *xa = dabs(x.d, x.n),
           *wa = dabs(w.d, w.n), *ba = dabs(b.d, b.n);
    ref_fc_fwd(x.d, w.d, b.d, r, N, C, K);
    ref_fc_fwd(xa, wa, ba, ra, N, C, K);
    double *tol = sum_tol(ra, ny, C + 1); /* C products + the bias */
    char what[96];
    snprintf(what, sizeof what, "fc_fwd N%d C%d K%d", N, C, K);
    T_OK(tcheck(what, o[0], r, tol, 0.0, ny));
    T_OK(tsame_bits("  fc_fwd twice", o[0], o[1], ny));
    T_OK(tbuf_guards_ok(&dev, by, "fc y"));
    T_OK(tbuf_unchanged(&dev, bx, x.f, "fc x") && tbuf_unchanged(&dev, bw, w.f, "fc w"));
    tbuf_free(&bx), tbuf_free(&bw), tbuf_free(&bb), tbuf_free(&by);
    tfree(&x), tfree(&w), tfree(&b);
    free(o[0]), free(o[1]), free(r), free(ra), free(xa), free(wa), free(ba), free(tol);
}

/* ---- softmax ---- */
static void test_softmax(int N, int K, double scale) {
    Tensor x = tnew((size_t)N * K, -scale, scale);
    size_t n = x.n;
    TBuf bx = tbuf_new(&dev, x.f, n, 5), bp = tbuf_new_fill(&dev, GARBAGE, n, 6);
    float *o[2] = {T_NEW(float, n), T_NEW(float, n)};
    for (int run = 0; run < 2; run++) {
        tbuf_poison(&dev, bp, GARBAGE);
        T_MBN(mbn_op_softmax(&dev, tb(bx), tb(bp), N, K));
        tbuf_read(&dev, bp, o[run]);
    }
    double *r = T_NEW(double, n), *tol = T_NEW(double, n);
    ref_softmax(x.d, r, N, K);
    /* p = exp(x - mx) / sum: x - mx rounds to u|x - mx| absolute, which exp turns into that much
     * relative error; exp 3 ulp each, K-term sum, division 2.5 ulp, product: factor 2 */
    for (int i = 0; i < N; i++) {
        double mx = -INFINITY;
        for (int k = 0; k < K; k++)
            mx = fmax(mx, x.d[(size_t)i * K + k]);
        for (int k = 0; k < K; k++) {
            size_t j = (size_t)i * K + k;
            tol[j] = 2 * r[j] * (T_U * fabs(x.d[j] - mx) + (K + 10) * T_U);
        }
    }
    char what[96];
    snprintf(what, sizeof what, "softmax N%d K%d |x|<=%g", N, K, scale);
    T_OK(tcheck(what, o[0], r, tol, 1e-37, n));
    T_OK(tsame_bits("  softmax twice", o[0], o[1], n));
    T_OK(tbuf_guards_ok(&dev, bp, "softmax probs"));
    tbuf_free(&bx), tbuf_free(&bp);
    tfree(&x);
    free(o[0]), free(o[1]), free(r), free(tol);
}

int main(void) {
    tdev_open(&dev);
    mbn_rng_seed(&rng, 1001);
    if (t_small_shapes()) {
        /* the ops outside the variant table (bench/op_bench.c runs those), on small shapes:
         * pooling one, 4 (C % 4) and 16 (C % 16) channels a work-item, the classifier, softmax,
         * the inference epilogue and BN folding in both weight layouts */
        test_bias_relu6(49, 13);
        test_bn_fold(13, 9, 1);
        test_bn_fold(24, 27, 0);
        test_avgpool(2, 9, 13);
        test_avgpool(3, 4, 20);
        test_avgpool(2, 9, 48);
        test_fc(2, 37, 10);
        test_fc(1, 8, 2);
        test_softmax(3, 10, 3.0);
        test_softmax(4, 37, 30.0);
        mbn_device_close(&dev);
        return t_summary("test_ops_forward (small shapes)");
    }
    /* stem: the stem always has stride 2 in the model; stride 1 covers the general op */
    test_stem(1, 7, 7, 8, 2);
    test_stem(3, 15, 9, 13, 2);
    test_stem(2, 9, 9, 5, 1);
    test_stem(2, 32, 32, 8, 2);
    test_stem(1, 33, 31, 24, 2);
    /* the network's form: 32-channel blocks, a 16-channel last block (48), odd and even sizes,
     * images too small for a 6-pixel tile (every pixel on the checked path), stride 1, and a
     * count that falls back (24) */
    test_stem_fwd(2, 32, 32, 32, 2, 1);
    test_stem_fwd(1, 33, 31, 48, 2, 1);
    test_stem_fwd(2, 29, 40, 16, 2, 0);
    test_stem_fwd(1, 7, 9, 32, 2, 1);
    test_stem_fwd(2, 1, 1, 32, 2, 1);
    test_stem_fwd(1, 19, 27, 64, 1, 1);
    test_stem_fwd(2, 15, 15, 24, 2, 1);
    /* depthwise */
    test_dw(1, 7, 7, 3, 1, 0);
    test_dw(2, 9, 9, 13, 2, 0);
    test_dw(3, 15, 15, 37, 1, 0);
    test_dw(2, 8, 8, 24, 2, 0);
    test_dw(2, 2, 3, 5, 2, 0);
    test_dw(1, 1, 1, 5, 1, 0);
    test_dw(2, 9, 7, 13, 1, 1);
    test_dw(2, 15, 15, 37, 2, 1);
    /* channel counts that take the 16-wide CPU kernel: odd and even sizes, both strides, 1 and
     * 2 pixel images (every column is an edge column) */
    test_dw(2, 9, 7, 32, 1, 1);
    test_dw(2, 15, 15, 16, 2, 0);
    test_dw(2, 8, 8, 32, 2, 1);
    test_dw(1, 2, 2, 48, 2, 1);
    test_dw(1, 1, 1, 16, 1, 0);
    test_dw(3, 2, 5, 64, 1, 1);
    /* depthwise + pointwise: the fused shapes (the cpu row's MIN_PIXELS default is 784 output
     * pixels), both strides, odd sizes, a row shorter than a 6-row tile, C not a multiple of
     * 32, then shapes that run the two ops */
    test_dwpw(2, 28, 28, 32, 1, 64);
    test_dwpw(1, 57, 61, 16, 2, 32);
    test_dwpw(1, 60, 30, 48, 2, 96);
    test_dwpw(2, 4, 200, 32, 1, 32);
    test_dwpw(1, 33, 29, 128, 1, 128);
    test_dwpw(2, 9, 9, 32, 1, 64);
    test_dwpw(1, 30, 30, 24, 1, 32);
    test_dwpw(1, 30, 30, 32, 1, 40);
    /* pointwise */
    test_pw(7, 3, 5);
    test_pw(49, 13, 24);
    test_pw(162, 37, 13);
    test_pw(1, 8, 8);
    test_pw(450, 64, 128);
    test_pw(2 * 4 * 4, 256, 256);
    /* BN: single chunk, several chunks, uneven last chunk, the 256-chunk cap */
    test_bn_train(7, 5, 0.0);
    test_bn_train(49, 13, 0.0);
    test_bn_train(1000, 37, 0.0);
    test_bn_train(1039, 24, 100.0);
    test_bn_train(20000, 3, 0.0);
    test_bn_train(2, 8, 0.0);
    test_bn_fold(13, 9, 1);
    test_bn_fold(24, 27, 0);
    test_bn_fold(37, 13, 0);
    test_bias_relu6(49, 13);
    test_bias_relu6(3, 37);
    test_avgpool(2, 49, 13);
    test_avgpool(3, 1, 37);
    test_avgpool(1, 9, 5);
    test_avgpool(4, 225, 24);
    test_avgpool(2, 49, 1024); /* 16 channels a work-item */
    test_avgpool(3, 16, 48);
    test_fc(2, 37, 10);
    test_fc(5, 13, 3);
    test_fc(1, 8, 2);
    test_fc(8, 256, 10);
    test_softmax(3, 10, 3.0);
    test_softmax(5, 2, 1.0);
    test_softmax(4, 37, 30.0);
    /* random shapes (fixed seed): sizes 1..17, channels 1..40, batch 1..4, stride 1 or 2 */
    MbnRng shapes;
    mbn_rng_seed(&shapes, 77);
    for (int i = 0; i < 8; i++) {
        int N = t_rand_int(&shapes, 1, 4), H = t_rand_int(&shapes, 1, 17),
            W = t_rand_int(&shapes, 1, 17);
        int C = t_rand_int(&shapes, 1, 40), C2 = t_rand_int(&shapes, 1, 40),
            s = t_rand_int(&shapes, 1, 2);
        printf("-- random shape %d: N%d H%d W%d C%d C2 %d stride %d\n", i, N, H, W, C, C2, s);
        test_stem(N, H, W, C, s);
        test_stem_fwd(N, H + 12, W + 12, 16 * t_rand_int(&shapes, 1, 4), s, i % 2);
        test_dw(N, H, W, C, s, i % 2);
        test_pw((size_t)N * H * W, C, C2);
        if ((size_t)N * H * W > 1) test_bn_train((size_t)N * H * W, C, 0.0);
        test_bn_fold(C, t_rand_int(&shapes, 1, 30), i % 2);
        test_avgpool(N, H * W, C);
        test_fc(N, C, C2 + 1);
        test_softmax(N, C2 + 1, 5.0);
    }
    mbn_device_close(&dev);
    return t_summary("test_ops_forward");
}
