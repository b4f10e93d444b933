/* The pointwise GEMM ops against plain-C references on awkward shapes (rows not a multiple of
 * the 7-row tile, a last tile of one row, channels not a multiple of 32 or 8, split-K weight
 * gradients), for whichever path the device takes (gemm.cl's tiled kernel on CPUs, CLBlast on
 * GPUs). Every op's status is checked, every output is poisoned before each op (so a variant that
 * writes nothing cannot pass on its predecessor's result) and its guard zones checked after.
 * Tolerance: max |err| below 1e-5 * sqrt(K) for a K-term sum of products of values in [-1, 1):
 * random-sign float32 rounding errors grow like sqrt(K) u, far below this, while a wrong or missing
 * term moves a result by about one term (~0.3). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/error.h"
#include "host/device.h"
#include "model/net.h"
#include "model/ops.h"
#include "tests/support/devutil.h"
#include "tests/support/testutil.h"

static MbnDevice dev;

static float *randv(size_t n, MbnRng *r) {
    float *v = T_NEW(float, n ? n : 1);
    tfill_uniform(r, v, NULL, n, -1.0, 1.0);
    return v;
}

/* Reads the output (after poisoning it before the op) and compares. */
static void check(const char *what, TBuf out, float *got, const double *want, double scale) {
    tbuf_read(&dev, out, got);
    double worst = 0;
    for (size_t i = 0; i < out.n; i++) {
        double e = fabs(got[i] - want[i]) / scale;
        if (e > worst || e != e) worst = e;
    }
    printf("%s: max relative error %.2g\n", what, worst);
    T_CHECK(worst < 1e-5, "%s: max relative error %.2g", what, worst);
    T_OK(tbuf_guards_ok(&dev, out, what));
}

static void one_shape(size_t M, int Cin, int Cout) {
    MbnRng s;
    mbn_rng_seed(&s, M * 131 + (size_t)Cin * 7 + (size_t)Cout);
    size_t nx = M * Cin, ny = M * Cout, nw = (size_t)Cout * Cin;
    float *x = randv(nx, &s), *w = randv(nw, &s), *b = randv(Cout, &s), *dy = randv(ny, &s);
    size_t most = nx > ny ? nx : ny;
    if (nw > most) most = nw;
    float *got = T_NEW(float, most);
    double *want = T_NEW(double, most);
    size_t scratch_n = mbn_net_scratch_floats(M, Cout > Cin ? Cout : Cin);
    TBuf X = tbuf_new(&dev, x, nx, 3), Wt = tbuf_new(&dev, NULL, nw, 5),
         B = tbuf_new(&dev, b, Cout, 1);
    TBuf W = tbuf_new(&dev, w, nw, 2), DY = tbuf_new(&dev, dy, ny, 7);
    /* The forward weight operand in whatever layout the device's GEMM variant reads. */
    tbuf_poison(&dev, Wt, NAN);
    T_MBN(mbn_op_transpose(&dev, tb(W), tb(Wt), Cout, Cin));
    T_OK(tbuf_guards_ok(&dev, Wt, "mbn_op_transpose"));
    TBuf Y = tbuf_new(&dev, NULL, ny, 4), DX = tbuf_new(&dev, NULL, nx, 6),
         DW = tbuf_new(&dev, NULL, nw, 9), S = tbuf_new(&dev, NULL, scratch_n, 0);
    char what[96];
    for (int bias = 0; bias < 2; bias++) {
        tbuf_poison(&dev, Y, NAN);
        T_MBN(mbn_op_pw_fwd_t(&dev, tb(X), tb(Wt), bias ? tb(B) : MBN_NOBUF, tb(Y), M, Cin, Cout));
        for (size_t m = 0; m < M; m++)
            for (int o = 0; o < Cout; o++) {
                double a = 0;
                for (int i = 0; i < Cin; i++)
                    a += (double)x[m * Cin + i] * w[(size_t)o * Cin + i];
                if (bias) a = fmin(fmax(a + b[o], 0.0), 6.0);
                want[m * Cout + o] = a;
            }
        snprintf(what, sizeof what, "pw_fwd_t%s M=%zu Cin=%d Cout=%d", bias ? "+bias" : "", M, Cin,
                 Cout);
        check(what, Y, got, want, sqrt((double)Cin));
    }
    tbuf_poison(&dev, DX, NAN);
    T_MBN(mbn_op_pw_bwd_input(&dev, tb(DY), tb(W), tb(DX), M, Cin, Cout));
    for (size_t m = 0; m < M; m++)
        for (int i = 0; i < Cin; i++) {
            double a = 0;
            for (int o = 0; o < Cout; o++)
                a += (double)dy[m * Cout + o] * w[(size_t)o * Cin + i];
            want[m * Cin + i] = a;
        }
    snprintf(what, sizeof what, "pw_bwd_input M=%zu Cin=%d Cout=%d", M, Cin, Cout);
    check(what, DX, got, want, sqrt((double)Cout));
    /* with a workspace for the weights (packed there on CPUs; Wt is free here) */
    tbuf_poison(&dev, DX, NAN);
    tbuf_poison(&dev, Wt, NAN);
    T_MBN(mbn_op_pw_bwd_input_ws(&dev, tb(DY), tb(W), tb(DX), M, Cin, Cout, tb(Wt)));
    snprintf(what, sizeof what, "pw_bwd_input_ws M=%zu Cin=%d Cout=%d", M, Cin, Cout);
    check(what, DX, got, want, sqrt((double)Cout));
    T_OK(tbuf_guards_ok(&dev, Wt, "pw_bwd_input_ws work"));
    for (int o = 0; o < Cout; o++)
        for (int i = 0; i < Cin; i++) {
            double a = 0;
            for (size_t m = 0; m < M; m++)
                a += (double)dy[m * Cout + o] * x[m * Cin + i];
            want[(size_t)o * Cin + i] = a;
        }
    for (int split = 0; split < 3; split++) {
        tbuf_poison(&dev, DW, NAN);
        tbuf_poison(&dev, S, NAN);
        if (split == 2) /* with a workspace (dy transposed into it on CPUs); DX is free now */
            T_MBN(mbn_op_pw_bwd_weight_ws(&dev, tb(X), tb(DY), tb(DW), M, Cin, Cout, tb(S),
                                          nx >= ny ? tb(DX) : MBN_NOBUF));
        else if (split)
            T_MBN(mbn_op_pw_bwd_weight_split(&dev, tb(X), tb(DY), tb(DW), M, Cin, Cout, tb(S)));
        else
            T_MBN(mbn_op_pw_bwd_weight(&dev, tb(X), tb(DY), tb(DW), M, Cin, Cout));
        snprintf(what, sizeof what, "pw_bwd_weight%s M=%zu Cin=%d Cout=%d",
                 split == 2 ? "_ws"
                 : split    ? "_split"
                            : "",
                 M, Cin, Cout);
        check(what, DW, got, want, sqrt((double)M));
    }
    T_OK(tbuf_unchanged(&dev, X, x, "pw x") && tbuf_unchanged(&dev, DY, dy, "pw dy") &&
         tbuf_unchanged(&dev, W, w, "pw w"));
    TBuf *all[] = {&X, &Wt, &B, &W, &DY, &Y, &DX, &DW, &S};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        tbuf_free(all[i]);
    free(x), free(w), free(b), free(dy), free(got), free(want);
}

int main(void) {
    tdev_open(&dev);
    one_shape(1, 8, 8);
    one_shape(7, 27, 32);
    one_shape(49, 24, 40);
    one_shape(50, 64, 96);
    one_shape(4000, 32, 64);  /* split-K weight gradient, many chunks */
    one_shape(3000, 72, 200); /* split-K with column edges */
    one_shape(20000, 27, 8);  /* the stem weight gradient at 0.25: 16 + 8 + 3 columns */
    one_shape(4000, 64, 64);  /* workspace weight gradient, split K */
    one_shape(48, 40, 16);    /* workspace weight gradient, one chunk */
    one_shape(61, 300, 40); /* forward K in blocks of KC (128, 128, 44), ragged rows and columns */
    one_shape(1, 1024, 1000); /* one row (the classifier at batch 1): panels in pairs, an edge */
    one_shape(15, 200, 96);   /* a one-row last tile after full ones; three panels (a pair, one) */
    one_shape(64, 72, 64);    /* weight gradient rows 64 = 9 x 7 + 1: the one-row tile, a_trans */
    mbn_device_close(&dev);
    return t_summary("test_ops_gemm_paths");
}
