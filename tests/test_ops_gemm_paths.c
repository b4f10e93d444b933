/* The pointwise GEMM ops against plain-C references on awkward shapes (rows not a multiple of
 * the 6-row tile, channels not a multiple of 32 or 8, split-K weight gradients), for whichever
 * path the device takes (gemm.cl's tiled kernel on CPUs, CLBlast on GPUs). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "host/device.h"
#include "base/error.h"
#include "model/ops.h"
#include "tests/support/testutil.h"

static MbnDevice dev;

static cl_mem upload(const float *h, size_t n) {
    cl_int err;
    cl_mem m = clCreateBuffer(dev.context, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR,
                              (n ? n : 1) * sizeof(float), (void *)h, &err);
    return err == CL_SUCCESS ? m : NULL;
}

static void download(cl_mem m, float *h, size_t n) {
    clEnqueueReadBuffer(dev.queue, m, CL_TRUE, 0, n * sizeof(float), h, 0, NULL, NULL);
}

static float *randv(size_t n, MbnRng *r) {
    float *v = malloc((n ? n : 1) * sizeof *v);
    tfill_uniform(r, v, NULL, n, -1.0, 1.0);
    return v;
}

static void check(const char *what, const float *got, const double *want, size_t n, double scale) {
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs(got[i] - want[i]) / scale;
        if (e > worst || e != e) worst = e;
    }
    printf("%s: max relative error %.2g\n", what, worst);
    T_CHECK(worst < 1e-5, "%s: max relative error %.2g", what, worst);
}

static void one_shape(size_t M, int Cin, int Cout) {
    MbnRng s;
    mbn_rng_seed(&s, M * 131 + (size_t)Cin * 7 + (size_t)Cout);
    float *x = randv(M * Cin, &s), *w = randv((size_t)Cout * Cin, &s), *b = randv(Cout, &s);
    float *dy = randv(M * Cout, &s);
    size_t most = M * (size_t)(Cout > Cin ? Cout : Cin);
    if ((size_t)Cout * Cin > most) most = (size_t)Cout * Cin;
    float *got = malloc(most * sizeof *got);
    double *want = malloc(most * sizeof *want);
    float *wt = malloc((size_t)Cout * Cin * sizeof *wt);
    for (int o = 0; o < Cout; o++)
        for (int i = 0; i < Cin; i++)
            wt[(size_t)i * Cout + o] = w[(size_t)o * Cin + i];
    size_t scratch_n = mbn_ops_scratch_floats(M, Cout > Cin ? Cout : Cin);
    cl_mem X = upload(x, M * Cin), Wt = upload(wt, (size_t)Cout * Cin), B = upload(b, Cout);
    cl_mem W = upload(w, (size_t)Cout * Cin), DY = upload(dy, M * Cout);
    cl_mem Y = upload(dy, M * Cout), DX = upload(x, M * Cin), DW = upload(w, (size_t)Cout * Cin);
    float *zeros = calloc(scratch_n, sizeof *zeros);
    cl_mem S = upload(zeros, scratch_n);
    char what[96];
    for (int bias = 0; bias < 2; bias++) {
        mbn_op_pw_fwd_t(&dev, MBN_BUF(X, 0), MBN_BUF(Wt, 0), bias ? MBN_BUF(B, 0) : MBN_NOBUF,
                        MBN_BUF(Y, 0), M, Cin, Cout);
        download(Y, got, M * Cout);
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
        check(what, got, want, M * Cout, sqrt((double)Cin));
    }
    mbn_op_pw_bwd_input(&dev, MBN_BUF(DY, 0), MBN_BUF(W, 0), MBN_BUF(DX, 0), M, Cin, Cout);
    download(DX, got, M * Cin);
    for (size_t m = 0; m < M; m++)
        for (int i = 0; i < Cin; i++) {
            double a = 0;
            for (int o = 0; o < Cout; o++)
                a += (double)dy[m * Cout + o] * w[(size_t)o * Cin + i];
            want[m * Cin + i] = a;
        }
    snprintf(what, sizeof what, "pw_bwd_input M=%zu Cin=%d Cout=%d", M, Cin, Cout);
    check(what, got, want, M * Cin, sqrt((double)Cout));
    for (int split = 0; split < 3; split++) {
        if (split == 2) /* with a workspace (dy transposed into it on CPUs); DX is free now */
            mbn_op_pw_bwd_weight_ws(&dev, MBN_BUF(X, 0), MBN_BUF(DY, 0), MBN_BUF(DW, 0), M, Cin,
                                    Cout, MBN_BUF(S, 0),
                                    M * Cin >= M * Cout ? MBN_BUF(DX, 0) : MBN_NOBUF);
        else if (split)
            mbn_op_pw_bwd_weight_split(&dev, MBN_BUF(X, 0), MBN_BUF(DY, 0), MBN_BUF(DW, 0), M, Cin,
                                       Cout, MBN_BUF(S, 0));
        else
            mbn_op_pw_bwd_weight(&dev, MBN_BUF(X, 0), MBN_BUF(DY, 0), MBN_BUF(DW, 0), M, Cin, Cout);
        download(DW, got, (size_t)Cout * Cin);
        for (int o = 0; o < Cout; o++)
            for (int i = 0; i < Cin; i++) {
                double a = 0;
                for (size_t m = 0; m < M; m++)
                    a += (double)dy[m * Cout + o] * x[m * Cin + i];
                want[(size_t)o * Cin + i] = a;
            }
        snprintf(what, sizeof what, "pw_bwd_weight%s M=%zu Cin=%d Cout=%d",
                 split == 2 ? "_ws"
                 : split    ? "_split"
                            : "",
                 M, Cin, Cout);
        check(what, got, want, (size_t)Cout * Cin, sqrt((double)M));
    }
    cl_mem all[] = {X, Wt, B, W, DY, Y, DX, DW, S};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        clReleaseMemObject(all[i]);
    free(x), free(w), free(b), free(dy), free(got), free(want), free(wt), free(zeros);
}

int main(void) {
    T_MBN(mbn_device_open_selected(&dev, NULL));
    one_shape(1, 8, 8);
    one_shape(7, 27, 32);
    one_shape(49, 24, 40);
    one_shape(50, 64, 96);
    one_shape(4000, 32, 64);  /* split-K weight gradient, many chunks */
    one_shape(3000, 72, 200); /* split-K with column edges */
    one_shape(20000, 27, 8);  /* the stem weight gradient at 0.25: 16 + 8 + 3 columns */
    one_shape(4000, 64, 64);  /* workspace weight gradient, split K */
    one_shape(48, 40, 16);    /* workspace weight gradient, one chunk */
    mbn_device_close(&dev);
    return t_summary("test_ops_gemm_paths");
}
