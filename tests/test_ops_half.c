/* The fp16 inference path's ops (model/ops.h: half-stored activations and weights, float
 * arithmetic) against the double-precision references (tests/support/ref.c), with the layout of
 * tests/test_ops_forward.c: awkward shapes, tensors at odd offsets with guard zones, outputs
 * poisoned before each of two runs that must give the same bits, inputs unchanged.
 *
 * Inputs are drawn, rounded to half on the host (base/half.h) and given to both sides, so the
 * reference sees exactly the device's values. The weight operands are made by the path's own
 * fold (mbn_op_bn_fold_to) with an identity BatchNorm (gamma 1, mean 0, var 1, eps 0: scale
 * exactly 1, bias = beta), which writes them in each kernel's layout; the fold with a real
 * BatchNorm is checked on its own.
 *
 * Tolerances, per output, from the magnitudes involved (S = the reference run on |inputs|, the
 * sum of |terms|): a K-term sum in float is within (K + 2) u S, u = 2^-24 (as in
 * test_ops_forward); storing the result as half adds at most u_h = 2^-11 of it. On the gpu rows
 * with HALF_ARITH (devices with cl_khr_fp16) products and the sums of up to B terms (BK of the
 * GEMM, the 9 depthwise taps) are half: (B + 1) u_h S more. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/half.h"
#include "host/cl_error.h"
#include "tests/support/devutil.h"
#include "tests/support/ref.h"
#include "tests/support/testutil.h"

#define GARBAGE 777.0f
#define HGUARD 41          /* halves after the tensor */
#define HGUARD_BITS 0x7e5a /* a NaN no op writes */

static MbnDevice dev;
static MbnRng rng;

/* ---- half buffers with guard zones (the float ones are tests/support/devutil.h's) ---- */
typedef struct {
    cl_mem mem;
    size_t off, n;
} HBuf;

static void cl_ok(cl_int err, const char *what) {
    if (err != CL_SUCCESS) {
        printf("FATAL: %s: %s\n", what, mbn_cl_error_name(err));
        exit(1);
    }
}

/* n values (NULL: zeros) at offset off, `total` halves in all (>= off + n + HGUARD). */
static HBuf hbuf_new(const float *v, size_t n, size_t off, size_t total) {
    uint16_t *h = T_NEW(uint16_t, total);
    for (size_t i = 0; i < total; i++)
        h[i] = i >= off && i < off + n ? (v ? mbn_half_from_float(v[i - off]) : 0) : HGUARD_BITS;
    cl_int err;
    HBuf b = {
        clCreateBuffer(dev.context, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, total * 2, h, &err),
        off, n};
    cl_ok(err, "clCreateBuffer");
    free(h);
    return b;
}

static HBuf hbuf(const float *v, size_t n, size_t off) {
    return hbuf_new(v, n, off, off + n + HGUARD);
}

static void hbuf_fill(HBuf b, float value) {
    uint16_t *h = T_NEW(uint16_t, b.n ? b.n : 1);
    for (size_t i = 0; i < b.n; i++)
        h[i] = mbn_half_from_float(value);
    cl_ok(clEnqueueWriteBuffer(dev.queue, b.mem, CL_TRUE, b.off * 2, b.n * 2, h, 0, NULL, NULL),
          "clEnqueueWriteBuffer");
    free(h);
}

static void hbuf_read(HBuf b, float *out) {
    uint16_t *h = T_NEW(uint16_t, b.n ? b.n : 1);
    cl_ok(clEnqueueReadBuffer(dev.queue, b.mem, CL_TRUE, b.off * 2, b.n * 2, h, 0, NULL, NULL),
          "clEnqueueReadBuffer");
    for (size_t i = 0; i < b.n; i++)
        out[i] = mbn_half_to_float(h[i]);
    free(h);
}

static bool hbuf_guards_ok(HBuf b, const char *what) {
    size_t total = 0;
    cl_ok(clGetMemObjectInfo(b.mem, CL_MEM_SIZE, sizeof total, &total, NULL), "buffer size");
    total /= 2;
    uint16_t *h = T_NEW(uint16_t, total);
    cl_ok(clEnqueueReadBuffer(dev.queue, b.mem, CL_TRUE, 0, total * 2, h, 0, NULL, NULL),
          "clEnqueueReadBuffer");
    size_t bad = 0;
    for (size_t i = 0; i < b.off; i++)
        bad += h[i] != HGUARD_BITS;
    for (size_t i = total - HGUARD; i < total; i++)
        bad += h[i] != HGUARD_BITS;
    free(h);
    if (bad) printf("FAIL %s: %zu guard halves overwritten\n", what, bad);
    return bad == 0;
}

static MbnBuf hb(HBuf b) {
    return MBN_HBUF(b.mem, b.off);
}

static void hbuf_free(HBuf *b) {
    clReleaseMemObject(b->mem);
}

/* A random tensor with half values (float and double mirrors equal). */
static Tensor thalf(size_t n, double lo, double hi) {
    Tensor t = ttensor_new(&rng, n, lo, hi);
    for (size_t i = 0; i < n; i++)
        t.d[i] = t.f[i] = mbn_half_round(t.f[i]);
    return t;
}

/* Whether op's row computes in half on this device (cl/half_gpu.cl), and its block. */
static int half_block(MbnOp op) {
    const MbnVariantChoice *v = &dev.variants.op[op];
    if (v->row->family != MBN_FAMILY_GPU || !dev.info.fp16 || !mbn_vparam_or(v, "HALF_ARITH", 0))
        return 0;
    return op == MBN_OP_GEMM ? mbn_vparam(v, "BK") : 9;
}

/* The bound on a half-stored output y of a K-term sum with sum|terms| S (see the top). */
static double half_tol(double y, double S, int K, int block) {
    double e = (K + 2) * T_U * S + (block ? (block + 1) * MBN_HALF_U * S : 0.0);
    return e + MBN_HALF_U * (fabs(y) + e);
}

/* w [C, K] (or [K, C] channel_minor) and bias b as the fp16 path stores them (layout, half or
 * float weights), through mbn_op_bn_fold_to with an identity BatchNorm. */
static void as_stored(const Tensor *w, const Tensor *b, int C, int K, bool channel_minor,
                      MbnFoldLayout layout, MbnBuf w_out, MbnBuf b_out) {
    float *one = T_NEW(float, C), *zero = T_NEW(float, C);
    for (int c = 0; c < C; c++)
        one[c] = 1.0f, zero[c] = 0.0f;
    TBuf bw = tbuf_new(&dev, w->f, w->n, 0), bg = tbuf_new(&dev, one, C, 0),
         bb = tbuf_new(&dev, b->f, C, 0), bm = tbuf_new(&dev, zero, C, 0),
         bv = tbuf_new(&dev, one, C, 0);
    T_MBN(mbn_op_bn_fold_to(&dev, tb(bw), tb(bg), tb(bb), tb(bm), tb(bv), 0.0f, C, K, channel_minor,
                            layout, w_out, b_out));
    tdev_finish(&dev);
    tbuf_free(&bw), tbuf_free(&bg), tbuf_free(&bb), tbuf_free(&bm), tbuf_free(&bv);
    free(one), free(zero);
}

/* A float bias buffer padded with zeros to whole panels (MBN_OPS_BIAS_PAD), guarded. */
static TBuf bias_buf(const Tensor *b, int C, size_t off) {
    size_t n = ((size_t)C + MBN_OPS_BIAS_PAD - 1) / MBN_OPS_BIAS_PAD * MBN_OPS_BIAS_PAD;
    TBuf t = tbuf_new(&dev, NULL, n, off);
    float *v = T_NEW(float, n);
    for (size_t i = 0; i < n; i++)
        v[i] = i < (size_t)C ? b->f[i] : 0.0f;
    tbuf_write(&dev, t, v);
    free(v);
    return t;
}

/* A GEMM B operand in the fp16 layout, zeroed (its padding is read as zeros). */
static HBuf gemm_b_buf(int K, int N, size_t off) {
    size_t n = mbn_ops_gemm_b_halves(&dev, K, N);
    return hbuf_new(NULL, n, off, off + n + HGUARD);
}

/* ---- fold: w * gamma / sqrt(var + eps) rounded once to half, the bias in float ---- */
static void test_fold(int C, int K, bool channel_minor) {
    const float eps = 1e-5f;
    Tensor w = ttensor_new(&rng, (size_t)C * K, -1, 1), g = ttensor_new(&rng, C, -2, 2),
           be = ttensor_new(&rng, C, -1, 1), mu = ttensor_new(&rng, C, -3, 3),
           var = ttensor_new(&rng, C, 0.01, 4);
    TBuf bw = tbuf_new(&dev, w.f, w.n, 3), bg = tbuf_new(&dev, g.f, C, 5),
         bb = tbuf_new(&dev, be.f, C, 6), bm = tbuf_new(&dev, mu.f, C, 7),
         bv = tbuf_new(&dev, var.f, C, 8), bbo = tbuf_new_fill(&dev, GARBAGE, C, 10);
    HBuf bwo = hbuf(NULL, w.n, 9);
    float *wo[2] = {T_NEW(float, w.n), T_NEW(float, w.n)},
          *bo[2] = {T_NEW(float, C), T_NEW(float, C)};
    for (int run = 0; run < 2; run++) {
        hbuf_fill(bwo, GARBAGE);
        tbuf_poison(&dev, bbo, GARBAGE);
        T_MBN(mbn_op_bn_fold_to(&dev, tb(bw), tb(bg), tb(bb), tb(bm), tb(bv), eps, C, K,
                                channel_minor, MBN_FOLD_AS_STORED, hb(bwo), tb(bbo)));
        hbuf_read(bwo, wo[run]);
        tbuf_read(&dev, bbo, bo[run]);
    }
    double *wr = T_NEW(double, w.n), *br = T_NEW(double, C), *tw = T_NEW(double, w.n),
           *tbb = T_NEW(double, C);
    ref_bn_fold(w.d, g.d, be.d, mu.d, var.d, (double)eps, C, K, channel_minor, wr, br);
    /* the float fold is within 8 u (test_ops_forward's test_bn_fold), then one rounding */
    for (size_t i = 0; i < w.n; i++)
        tw[i] = 2 * 8 * T_U * fabs(wr[i]) + MBN_HALF_U * fabs(wr[i]) * (1 + 16 * T_U);
    for (int c = 0; c < C; c++)
        tbb[c] = 2 * (8 * T_U * fabs(mu.d[c] * g.d[c]) / sqrt(var.d[c] + eps) +
                      T_U * (fabs(br[c]) + fabs(be.d[c])));
    char what[96];
    snprintf(what, sizeof what, "bn_fold_to half C%d K%d %s", C, K,
             channel_minor ? "[K,C]" : "[C,K]");
    T_OK(tcheck(what, wo[0], wr, tw, 0.0, w.n));
    T_OK(tcheck("  bias (float)", bo[0], br, tbb, 0.0, C));
    T_OK(tsame_bits("  fold twice", wo[0], wo[1], w.n) &&
         tsame_bits("  bias twice", bo[0], bo[1], C));
    T_OK(hbuf_guards_ok(bwo, "fold w") && tbuf_guards_ok(&dev, bbo, "fold b"));
    T_OK(tbuf_unchanged(&dev, bw, w.f, "fold w in"));
    tbuf_free(&bw), tbuf_free(&bg), tbuf_free(&bb), tbuf_free(&bm), tbuf_free(&bv), tbuf_free(&bbo);
    hbuf_free(&bwo);
    tfree(&w), tfree(&g), tfree(&be), tfree(&mu), tfree(&var);
    free(wo[0]), free(wo[1]), free(bo[0]), free(bo[1]), free(wr), free(br), free(tw), free(tbb);
}

/* ---- stem: float image and weight, half output ---- */
static void test_stem(int N, int H, int W, int Cout, int s) {
    int Ho = ref_out(H, s), Wo = ref_out(W, s);
    size_t ny = (size_t)N * Ho * Wo * Cout;
    Tensor x = ttensor_new(&rng, (size_t)N * H * W * 3, -2.5, 2.5),
           w = ttensor_new(&rng, (size_t)Cout * 27, -0.5, 0.5), b = ttensor_new(&rng, Cout, -1, 3);
    TBuf bx = tbuf_new(&dev, x.f, x.n, 3), bwt = tbuf_new(&dev, NULL, w.n, 5),
         bb = bias_buf(&b, Cout, 2);
    as_stored(&w, &b, Cout, 27, false, MBN_FOLD_GEMM_B, tb(bwt), tb(bb));
    HBuf by = hbuf(NULL, ny, 7);
    float *y[2] = {T_NEW(float, ny), T_NEW(float, ny)};
    for (int run = 0; run < 2; run++) {
        hbuf_fill(by, GARBAGE);
        T_MBN(mbn_op_stem_fwd(&dev, tb(bx), tb(bwt), tb(bb), hb(by), N, H, W, s, Cout, MBN_NOBUF));
        hbuf_read(by, y[run]);
    }
    double *yref = T_NEW(double, ny), *yabs = T_NEW(double, ny), *tol = T_NEW(double, ny);
    double *xa = dabs(x.d, x.n), *wa = dabs(w.d, w.n);
    ref_stem_fwd(x.d, w.d, yref, N, H, W, Cout, s);
    ref_stem_fwd(xa, wa, yabs, N, H, W, Cout, s);
    for (size_t i = 0; i < ny; i++) {
        yref[i] = fmin(fmax(yref[i] + b.d[i % Cout], 0.0), 6.0);
        tol[i] = half_tol(yref[i], yabs[i] + fabs(b.d[i % Cout]), 28, 0);
    }
    char what[96];
    snprintf(what, sizeof what, "stem_fwd half N%d %dx%d s%d Cout%d", N, H, W, s, Cout);
    T_OK(tcheck(what, y[0], yref, tol, 0.0, ny));
    T_OK(tsame_bits("stem_fwd twice", y[0], y[1], ny));
    T_OK(hbuf_guards_ok(by, "stem y") && tbuf_unchanged(&dev, bx, x.f, "stem x"));
    tbuf_free(&bx), tbuf_free(&bwt), tbuf_free(&bb);
    hbuf_free(&by);
    tfree(&x), tfree(&w), tfree(&b);
    free(y[0]), free(y[1]), free(yref), free(yabs), free(tol), free(xa), free(wa);
}

/* ---- depthwise + bias + ReLU6, all half but the bias ---- */
static void test_dw(int N, int H, int W, int C, int s) {
    int Ho = ref_out(H, s), Wo = ref_out(W, s);
    size_t ny = (size_t)N * Ho * Wo * C;
    Tensor x = thalf((size_t)N * H * W * C, -3, 3), w = thalf(9 * (size_t)C, -1, 1),
           b = ttensor_new(&rng, C, -2, 5);
    HBuf bx = hbuf(x.f, x.n, 1), bw = hbuf(NULL, w.n, 9), by = hbuf(NULL, ny, 13);
    TBuf bb = bias_buf(&b, C, 2);
    as_stored(&w, &b, C, 9, true, MBN_FOLD_AS_STORED, hb(bw), tb(bb));
    float *y[2] = {T_NEW(float, ny), T_NEW(float, ny)}, *xin = T_NEW(float, x.n);
    for (int run = 0; run < 2; run++) {
        hbuf_fill(by, GARBAGE);
        T_MBN(mbn_op_dw_fwd(&dev, hb(bx), hb(bw), tb(bb), hb(by), N, H, W, C, s));
        hbuf_read(by, y[run]);
    }
    double *yref = T_NEW(double, ny), *yabs = T_NEW(double, ny), *tol = T_NEW(double, ny);
    double *xa = dabs(x.d, x.n), *wa = dabs(w.d, w.n);
    ref_dw_fwd(x.d, w.d, b.d, yref, N, H, W, C, s);
    ref_dw_fwd(xa, wa, NULL, yabs, N, H, W, C, s);
    for (size_t i = 0; i < ny; i++)
        tol[i] = half_tol(yref[i], yabs[i] + fabs(b.d[i % C]), 10, half_block(MBN_OP_DW_FWD));
    char what[96];
    snprintf(what, sizeof what, "dw_fwd half N%d %dx%d C%d s%d", N, H, W, C, s);
    T_OK(tcheck(what, y[0], yref, tol, 0.0, ny));
    T_OK(tsame_bits("dw_fwd twice", y[0], y[1], ny));
    hbuf_read(bx, xin);
    T_OK(hbuf_guards_ok(by, "dw y") && tsame_bits("dw x unchanged", xin, x.f, x.n));
    hbuf_free(&bx), hbuf_free(&bw), hbuf_free(&by);
    tbuf_free(&bb);
    tfree(&x), tfree(&w), tfree(&b);
    free(y[0]), free(y[1]), free(xin), free(yref), free(yabs), free(tol), free(xa), free(wa);
}

/* ---- pointwise: y = relu6(x w^T + b), half ---- */
static void test_pw(size_t M, int Cin, int Cout) {
    size_t ny = M * Cout;
    Tensor x = thalf(M * Cin, -2, 6), w = thalf((size_t)Cout * Cin, -0.5, 0.5),
           b = ttensor_new(&rng, Cout, -2, 3);
    HBuf bx = hbuf(x.f, x.n, 3), bw = gemm_b_buf(Cin, Cout, 17), by = hbuf(NULL, ny, 5);
    TBuf bb = bias_buf(&b, Cout, 4);
    as_stored(&w, &b, Cout, Cin, false, MBN_FOLD_GEMM_B, hb(bw), tb(bb));
    float *y[2] = {T_NEW(float, ny), T_NEW(float, ny)};
    for (int run = 0; run < 2; run++) {
        hbuf_fill(by, GARBAGE);
        T_MBN(mbn_op_pw_fwd_t(&dev, hb(bx), hb(bw), tb(bb), hb(by), M, Cin, Cout));
        hbuf_read(by, y[run]);
    }
    double *yref = T_NEW(double, ny), *yabs = T_NEW(double, ny), *tol = T_NEW(double, ny);
    double *xa = dabs(x.d, x.n), *wa = dabs(w.d, w.n);
    ref_pw_fwd(x.d, w.d, yref, M, Cin, Cout);
    ref_pw_fwd(xa, wa, yabs, M, Cin, Cout);
    for (size_t i = 0; i < ny; i++) {
        yref[i] = fmin(fmax(yref[i] + b.d[i % Cout], 0.0), 6.0);
        tol[i] = half_tol(yref[i], yabs[i] + fabs(b.d[i % Cout]), Cin + 1, half_block(MBN_OP_GEMM));
    }
    char what[96];
    snprintf(what, sizeof what, "pw_fwd half M%zu Cin%d Cout%d", M, Cin, Cout);
    T_OK(tcheck(what, y[0], yref, tol, 0.0, ny));
    T_OK(tsame_bits("pw_fwd twice", y[0], y[1], ny));
    T_OK(hbuf_guards_ok(by, "pw y") && hbuf_guards_ok(bw, "pw w"));
    hbuf_free(&bx), hbuf_free(&bw), hbuf_free(&by);
    tbuf_free(&bb);
    tfree(&x), tfree(&w), tfree(&b);
    free(y[0]), free(y[1]), free(yref), free(yabs), free(tol), free(xa), free(wa);
}

/* ---- depthwise + pointwise, fused where the device runs them fused: the depthwise output is
 * rounded to half as between two kernels, so the fused kernel gives the two ops' bits ---- */
static void test_dwpw(int N, int H, int W, int C, int s, int Cout) {
    int Ho = ref_out(H, s), Wo = ref_out(W, s);
    size_t M = (size_t)N * Ho * Wo, nd = M * C, ny = M * Cout;
    Tensor x = thalf((size_t)N * H * W * C, -3, 3), w1 = thalf(9 * (size_t)C, -1, 1),
           b1 = ttensor_new(&rng, C, -2, 5), w2 = thalf((size_t)Cout * C, -0.5, 0.5),
           b2 = ttensor_new(&rng, Cout, -2, 3);
    HBuf bx = hbuf(x.f, x.n, 1), bw1 = hbuf(NULL, w1.n, 9), bw2 = gemm_b_buf(C, Cout, 3),
         bd = hbuf(NULL, nd, 5), by = hbuf(NULL, ny, 13);
    TBuf bb1 = bias_buf(&b1, C, 2), bb2 = bias_buf(&b2, Cout, 6);
    as_stored(&w1, &b1, C, 9, true, MBN_FOLD_AS_STORED, hb(bw1), tb(bb1));
    as_stored(&w2, &b2, Cout, C, false, MBN_FOLD_GEMM_B, hb(bw2), tb(bb2));
    bool fused = mbn_op_dwpw_fused_h(&dev, Ho, Wo, C, Cout);
    const MbnVariantChoice *v = &dev.variants.op[MBN_OP_DWPW_FWD];
    int vec = dev.variants.cpu_vec;
    if (v->row->family == MBN_FAMILY_CPU &&
        dev.variants.op[MBN_OP_GEMM].row->family == MBN_FAMILY_CPU && C % vec == 0 &&
        Cout % (2 * vec) == 0 && Ho * Wo >= mbn_vparam(v, "MIN_PIXELS"))
        T_CHECK(fused, "dwpw C%d Cout%d %dx%d runs fused on the cpu row", C, Cout, Ho, Wo);
    float *y[3];
    for (int run = 0; run < 3; run++) {
        y[run] = T_NEW(float, ny);
        hbuf_fill(by, GARBAGE);
        if (run < 2) {
            T_MBN(mbn_op_dwpw_fwd(&dev, hb(bx), hb(bw1), tb(bb1), hb(bw2), tb(bb2), hb(bd), hb(by),
                                  N, H, W, C, s, Cout));
        } else { /* the two ops */
            T_MBN(mbn_op_dw_fwd(&dev, hb(bx), hb(bw1), tb(bb1), hb(bd), N, H, W, C, s));
            T_MBN(mbn_op_pw_fwd_t(&dev, hb(bd), hb(bw2), tb(bb2), hb(by), M, C, Cout));
        }
        hbuf_read(by, y[run]);
    }
    double *dref = T_NEW(double, nd);
    ref_dw_fwd(x.d, w1.d, b1.d, dref, N, H, W, C, s);
    double *yref = T_NEW(double, ny), *yabs = T_NEW(double, ny), *tol = T_NEW(double, ny);
    double *da = dabs(dref, nd), *w2a = dabs(w2.d, w2.n);
    ref_pw_fwd(dref, w2.d, yref, M, C, Cout);
    ref_pw_fwd(da, w2a, yabs, M, C, Cout);
    /* the depthwise outputs are off by at most dw_tol (test_dw's bound) of their magnitude
     * bound; through the pointwise sum: the sum's own bound plus |w2| times that */
    double *dxa = dabs(x.d, x.n), *w1a = dabs(w1.d, w1.n), *dabs_ = T_NEW(double, nd),
           *dtol = T_NEW(double, nd), *prop = T_NEW(double, ny);
    ref_dw_fwd(dxa, w1a, NULL, dabs_, N, H, W, C, s);
    for (size_t i = 0; i < nd; i++)
        dtol[i] = half_tol(dref[i], dabs_[i] + fabs(b1.d[i % C]), 10, half_block(MBN_OP_DW_FWD));
    ref_pw_fwd(dtol, w2a, prop, M, C, Cout);
    for (size_t i = 0; i < ny; i++) {
        yref[i] = fmin(fmax(yref[i] + b2.d[i % Cout], 0.0), 6.0);
        tol[i] = prop[i] +
                 half_tol(yref[i], yabs[i] + fabs(b2.d[i % Cout]), C + 1, half_block(MBN_OP_GEMM));
    }
    char what[96];
    snprintf(what, sizeof what, "dwpw_fwd half%s N%d %dx%d C%d s%d Cout%d", fused ? "(fused)" : "",
             N, H, W, C, s, Cout);
    T_OK(tcheck(what, y[0], yref, tol, 0.0, ny));
    T_OK(tsame_bits("dwpw_fwd twice", y[0], y[1], ny));
    T_OK(tsame_bits("dwpw_fwd against dw_fwd + pw_fwd_t", y[0], y[2], ny));
    T_OK(hbuf_guards_ok(by, "dwpw y") && hbuf_guards_ok(bd, "dwpw y_dw"));
    hbuf_free(&bx), hbuf_free(&bw1), hbuf_free(&bw2), hbuf_free(&bd), hbuf_free(&by);
    tbuf_free(&bb1), tbuf_free(&bb2);
    tfree(&x), tfree(&w1), tfree(&b1), tfree(&w2), tfree(&b2);
    for (int run = 0; run < 3; run++)
        free(y[run]);
    free(dref), free(yref), free(yabs), free(tol), free(da), free(w2a), free(dxa), free(w1a),
        free(dabs_), free(dtol), free(prop);
}

/* A float output y of K-term sums, two runs, against yref (sum of |terms| yabs): within the
 * bound, the same bits twice, its guards intact. */
static void check_float(const char *what, float *const y[2], const double *yref, const double *yabs,
                        size_t n, int K, TBuf by) {
    double *tol = sum_tol(yabs, n, K);
    T_OK(tcheck(what, y[0], yref, tol, 0.0, n));
    T_OK(tsame_bits("  twice", y[0], y[1], n));
    T_OK(tbuf_guards_ok(&dev, by, what));
    free(tol);
}

/* ---- pool: half activations, float features (a float sum of HW terms, then / HW) ---- */
static void test_pool(int N, int HW, int C) {
    Tensor x = thalf((size_t)N * HW * C, 0, 6);
    HBuf bx = hbuf(x.f, x.n, 5);
    TBuf by = tbuf_new_fill(&dev, GARBAGE, (size_t)N * C, 3);
    float *y[2] = {T_NEW(float, (size_t)N *C), T_NEW(float, (size_t)N *C)};
    for (int run = 0; run < 2; run++) {
        tbuf_poison(&dev, by, GARBAGE);
        T_MBN(mbn_op_avgpool_fwd(&dev, hb(bx), tb(by), N, HW, C));
        tbuf_read(&dev, by, y[run]);
    }
    double *yref = T_NEW(double, (size_t)N *C), *xa = dabs(x.d, x.n);
    double *yabs = T_NEW(double, (size_t)N *C);
    ref_avgpool_fwd(x.d, yref, N, HW, C);
    ref_avgpool_fwd(xa, yabs, N, HW, C);
    char what[96];
    snprintf(what, sizeof what, "avgpool half -> float N%d HW%d C%d", N, HW, C);
    check_float(what, y, yref, yabs, (size_t)N * C, HW + 1, by);
    hbuf_free(&bx);
    tbuf_free(&by);
    tfree(&x);
    free(y[0]), free(y[1]), free(yref), free(xa), free(yabs);
}

/* ---- the classifier of the fp16 path: float, from the weight as stored [K, C] ---- */
static void test_classifier(int N, int C, int K) {
    Tensor x = ttensor_new(&rng, (size_t)N * C, 0, 6), w = ttensor_new(&rng, (size_t)K * C, -1, 1),
           b = ttensor_new(&rng, K, -1, 1);
    TBuf bx = tbuf_new(&dev, x.f, x.n, 1), bw = tbuf_new(&dev, w.f, w.n, 2),
         bb = tbuf_new(&dev, b.f, K, 3), by = tbuf_new_fill(&dev, GARBAGE, (size_t)N * K, 4);
    float *y[2] = {T_NEW(float, (size_t)N *K), T_NEW(float, (size_t)N *K)};
    for (int run = 0; run < 2; run++) {
        tbuf_poison(&dev, by, GARBAGE);
        T_MBN(mbn_op_classifier(&dev, tb(bx), tb(bw), tb(bb), tb(by), N, C, K));
        tbuf_read(&dev, by, y[run]);
    }
    double *yref = T_NEW(double, (size_t)N *K), *yabs = T_NEW(double, (size_t)N *K);
    double *xa = dabs(x.d, x.n), *wa = dabs(w.d, w.n), *ba = dabs(b.d, b.n);
    ref_fc_fwd(x.d, w.d, b.d, yref, N, C, K);
    ref_fc_fwd(xa, wa, ba, yabs, N, C, K);
    char what[96];
    snprintf(what, sizeof what, "classifier N%d C%d K%d", N, C, K);
    check_float(what, y, yref, yabs, (size_t)N * K, C + 1, by);
    tbuf_free(&bx), tbuf_free(&bw), tbuf_free(&bb), tbuf_free(&by);
    tfree(&x), tfree(&w), tfree(&b);
    free(y[0]), free(y[1]), free(yref), free(yabs), free(xa), free(wa), free(ba);
}

int main(void) {
    tdev_open(&dev);
    mbn_rng_seed(&rng, 18);
    printf("gemm row %s, half arithmetic: gemm %d, depthwise %d\n",
           dev.variants.op[MBN_OP_GEMM].row->name, half_block(MBN_OP_GEMM),
           half_block(MBN_OP_DW_FWD));
    if (t_small_shapes()) { /* ci/oclgrind.sh: every half kernel, on shapes the simulator runs
                             * in seconds (the cpu rows' vector and half-vector forms, partial
                             * panels, a fused 7 x 7 row, the pool's vector, 4-wide and scalar
                             * forms) */
        test_fold(8, 9, true);
        test_fold(12, 27, false);
        test_stem(1, 9, 8, 16, 2);
        test_stem(1, 8, 7, 8, 1);
        test_dw(1, 7, 6, 8, 1);
        test_dw(1, 6, 7, 24, 2);
        test_dw(1, 5, 5, 16, 1);
        test_pw(9, 24, 40);
        test_pw(1, 9, 16);
        test_dwpw(1, 14, 14, 16, 2, 32);
        test_dwpw(1, 6, 6, 8, 1, 8);
        test_pool(1, 9, 16);
        test_pool(1, 4, 12);
        test_pool(1, 3, 7);
        test_classifier(2, 20, 3);
        mbn_device_close(&dev);
        return t_summary("test_ops_half (small shapes)");
    }
    test_fold(24, 9, true);
    test_fold(40, 27, false);
    test_stem(2, 17, 19, 16, 2); /* the cpu row's one-vector block (at 16 floats) */
    test_stem(1, 32, 32, 48, 2);
    test_stem(2, 9, 8, 8, 1); /* a channel count no cpu vector divides: the generic row */
    int dws[][5] = {{2, 9, 11, 8, 1},   {1, 16, 16, 16, 2}, {3, 7, 6, 24, 2},
                    {1, 12, 12, 40, 1}, {2, 5, 5, 64, 1},   {1, 14, 14, 12, 2}};
    for (size_t i = 0; i < sizeof dws / sizeof dws[0]; i++)
        test_dw(dws[i][0], dws[i][1], dws[i][2], dws[i][3], dws[i][4]);
    test_pw(37, 24, 40); /* a partial last panel */
    test_pw(98, 64, 128);
    test_pw(1, 72, 8);
    test_pw(13, 9, 16);
    test_dwpw(2, 28, 28, 32, 1, 64); /* 784 pixels: fused on the cpu row */
    test_dwpw(1, 14, 14, 64, 2, 32);
    test_dwpw(1, 56, 56, 16, 2, 32); /* fused where 16 channels make a vector */
    test_dwpw(2, 10, 10, 24, 1, 40); /* the two ops */
    test_pool(3, 49, 64);
    test_pool(2, 16, 12);
    test_pool(1, 9, 7);
    test_classifier(3, 64, 10);
    test_classifier(2, 37, 5);
    mbn_device_close(&dev);
    return t_summary("test_ops_half");
}
