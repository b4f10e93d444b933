/* Why NHWC: a pointwise (1x1) conv over a batch is one GEMM [N*H*W x Cin] x [Cin x Cout] in
 * NHWC, but N small GEMMs W[Cout x Cin] x X_n[Cin x HW] in NCHW. This times, for a few
 * MobileNet V1 1.0-224 pointwise layers at batch 32, on the default mbn device:
 *   nhwc-tiled   mbn's own path (mbn_op_pw_fwd_t: gemm.cl on CPUs, CLBlast on GPUs)
 *   nhwc-clblast one CLBlast SGEMM over the whole batch
 *   nchw-batched CLBlastSgemmStridedBatched, one GEMM per image
 *   nchw-loop    N separate CLBlast SGEMM calls
 * Usage: build/bench/nhwc_vs_nchw [batch] [iterations] */
#include <clblast_c.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/clock.h"
#include "host/device.h"
#include "tune/open.h"
#include "base/error.h"
#include "model/ops.h"

static MbnDevice dev;

static cl_mem buffer(size_t floats) {
    cl_int err;
    float *h = malloc(floats * sizeof *h);
    for (size_t i = 0; i < floats; i++)
        h[i] = (float)((i * 2654435761u) % 1000) * 1e-3f;
    cl_mem m = clCreateBuffer(dev.context, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR,
                              floats * sizeof(float), h, &err);
    free(h);
    return m;
}

typedef enum { NHWC_TILED, NHWC_CLBLAST, NCHW_BATCHED, NCHW_LOOP } Variant;
static const char *variant_names[] = {"nhwc-tiled", "nhwc-clblast", "nchw-batched", "nchw-loop"};

static int run(Variant v, cl_mem x, cl_mem w, cl_mem wt, cl_mem y, int N, int HW, int Cin,
               int Cout) {
    size_t M = (size_t)N * HW;
    CLBlastStatusCode s = CLBlastSuccess;
    switch (v) {
    case NHWC_TILED:
        return mbn_op_pw_fwd_t(&dev, MBN_BUF(x, 0), MBN_BUF(wt, 0), MBN_NOBUF, MBN_BUF(y, 0), M,
                               Cin, Cout);
    case NHWC_CLBLAST:
        s = CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeYes, M,
                         (size_t)Cout, (size_t)Cin, 1.0f, x, 0, (size_t)Cin, w, 0, (size_t)Cin,
                         0.0f, y, 0, (size_t)Cout, &dev.queue, NULL);
        break;
    case NCHW_BATCHED: /* y_n[Cout, HW] = W[Cout, Cin] x_n[Cin, HW] */
        s = CLBlastSgemmStridedBatched(
            CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeNo, (size_t)Cout, (size_t)HW,
            (size_t)Cin, 1.0f, w, 0, (size_t)Cin, 0, x, 0, (size_t)HW, (size_t)Cin * HW, 0.0f, y, 0,
            (size_t)HW, (size_t)Cout * HW, (size_t)N, &dev.queue, NULL);
        break;
    case NCHW_LOOP:
        for (int n = 0; n < N && s == CLBlastSuccess; n++)
            s = CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeNo,
                             (size_t)Cout, (size_t)HW, (size_t)Cin, 1.0f, w, 0, (size_t)Cin, x,
                             (size_t)n * Cin * HW, (size_t)HW, 0.0f, y, (size_t)n * Cout * HW,
                             (size_t)HW, &dev.queue, NULL);
        break;
    }
    return s == CLBlastSuccess ? MBN_OK : mbn_fail(MBN_EFAIL, "CLBlast status %d", (int)s);
}

int main(int argc, char **argv) {
    int N = argc > 1 ? atoi(argv[1]) : 32, iters = argc > 2 ? atoi(argv[2]) : 3;
    if (mbn_device_open_selected(&dev, NULL) != MBN_OK) {
        fprintf(stderr, "nhwc_vs_nchw: %s\n", mbn_last_error());
        return 1;
    }
    struct {
        const char *name;
        int hw, cin, cout;
    } layers[] = {{"pw1", 112, 32, 64},
                  {"pw3", 56, 128, 128},
                  {"pw5", 28, 256, 256},
                  {"pw7", 14, 512, 512},
                  {"pw13", 7, 1024, 1024}};
    printf("device: %s, batch %d, %d iterations\n\n", dev.info.name, N, iters);
    printf("| layer | GEMM (M x N x K) |");
    for (int v = 0; v < 4; v++)
        printf(" %s ms (GFLOP/s) |", variant_names[v]);
    printf("\n|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++) {
        int HW = layers[i].hw * layers[i].hw, Cin = layers[i].cin, Cout = layers[i].cout;
        size_t M = (size_t)N * HW;
        cl_mem x = buffer(M * Cin), y = buffer(M * Cout), w = buffer((size_t)Cout * Cin);
        cl_mem wt = buffer((size_t)Cout * Cin);
        double flop = 2.0 * (double)M * Cin * Cout;
        printf("| %s | %zu x %d x %d |", layers[i].name, M, Cout, Cin);
        for (int v = 0; v < 4; v++) {
            int rc = run((Variant)v, x, w, wt, y, N, HW, Cin, Cout); /* warm-up, compiles */
            clFinish(dev.queue);
            double t0 = mbn_now();
            for (int it = 0; rc == MBN_OK && it < iters; it++)
                rc = run((Variant)v, x, w, wt, y, N, HW, Cin, Cout);
            clFinish(dev.queue);
            double ms = (mbn_now() - t0) * 1e3 / iters;
            if (rc == MBN_OK)
                printf(" %.1f (%.0f) |", ms, flop / ms * 1e-6);
            else
                printf(" failed |");
            fflush(stdout);
        }
        printf("\n");
        clReleaseMemObject(x), clReleaseMemObject(y), clReleaseMemObject(w);
        clReleaseMemObject(wt);
    }
    mbn_device_close(&dev);
    return 0;
}
