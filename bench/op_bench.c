/* Per-op harness (in the spirit of llm.c's dev/cuda): runs one op's kernel variants (rows of
 * host/variants.c) on given shapes, checks each against the plain-C reference
 * (tests/support/ref.c) and prints time, GFLOP/s and GB/s per variant. This is how a new kernel
 * or a new parameter value is tried without touching the network.
 *
 *   build/bench/op_bench OP [--shape S]... [--variant ROW[:NAME=V]...]... [--iterations K]
 *                           [--family F] [--batch B] [--device SEL] [--keep-buffers]
 *   build/bench/op_bench --list-kernels [--device SEL]   (every kernel of mbn's program)
 *   build/bench/op_bench --peak-once [--device SEL]      (the FMA-peak kernels, once, small)
 *
 * OP and the shape S it takes (default: MobileNet V1 1.0-224 layers at batch B, default 8):
 *   dw_fwd, dw_bwd_input, dw_bwd_weight   N,H,W,C,stride
 *   bn_fwd, bn_bwd                        M,C          (M rows of C channels)
 *   gemm                                  M,K,N        (y[M,N] = x[M,K] wt[K,N]: pointwise)
 *   gemm_wgrad                            M,Cin,Cout   (dw[Cout,Cin] = dy^T x over M rows)
 *   stem_fwd                              N,H,W,Cout,stride   (3x3 conv of an RGB image)
 *   dwpw_fwd                              N,H,W,C,stride,Cout (inference: depthwise + bias +
 *                                         ReLU6, then pointwise + bias + ReLU6)
 * --variant picks rows (default: every row the device can run; --family F: those of family F), e.g.
 *   --variant dw_fwd.gpu_tile:LC=32:TH=4 --variant dw_fwd.cpu_row
 * Time: wall clock over K calls between clFinish (after one warm-up call); K = 0 runs each case
 * once, checked and untimed (ci/oclgrind.sh). Check: the worst
 * error relative to the first-order bound (K + 2) u sum|terms| of the op's sums (x2); BN uses a
 * looser 1e-4 relative bound (its rigorous bounds live in tests/test_ops_*.c). Exit status 1
 * when any variant fails its check. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/error.h"
#include "host/cl_error.h"
#include "host/device.h"
#include "host/peak.h"
#include "model/net.h"
#include "tune/open.h"
#include "model/ops.h"
#include "tests/support/devutil.h"
#include "tests/support/ref.h"

#define U (1.0 / 16777216.0)

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static double urand(double lo, double hi) {
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return lo + (hi - lo) * (double)(rng_state >> 11) / 9007199254740992.0;
}

typedef struct {
    float *f;
    double *d, *a; /* exact mirror, |mirror| */
    size_t n;
    cl_mem m;
} Arr;

/* An array of n floats drawn from [lo, hi), on the host and the device. lo == hi == 0 is an
 * output or scratch array: its device buffer is left unwritten, as the network's are, so that
 * oclgrind --uninitialized (ci/oclgrind.sh) reports a kernel that reads it before writing it. */
static Arr arr_new(MbnDevice *dev, size_t n, double lo, double hi) {
    Arr x = {malloc((n ? n : 1) * sizeof(float)), malloc((n ? n : 1) * sizeof(double)),
             malloc((n ? n : 1) * sizeof(double)), n, NULL};
    for (size_t i = 0; i < n; i++) {
        x.f[i] = (float)urand(lo, hi);
        x.d[i] = x.f[i];
        x.a[i] = fabs(x.d[i]);
    }
    bool output = lo == 0 && hi == 0;
    cl_int err;
    x.m = clCreateBuffer(dev->context, CL_MEM_READ_WRITE | (output ? 0 : CL_MEM_COPY_HOST_PTR),
                         (n ? n : 1) * sizeof(float), output ? NULL : x.f, &err);
    if (err != CL_SUCCESS) {
        fprintf(stderr, "op_bench: allocating %zu floats: %s\n", n, mbn_cl_error_name(err));
        exit(1);
    }
    return x;
}

/* --keep-buffers: device buffers are released at exit only. oclgrind 21.10's uninitialised-value
 * checker keeps a released buffer's shadow state for the next buffer that reuses its id, and a
 * larger buffer created without data then reads as uninitialised past the old size (false
 * reports) while the old state hides real ones below it. */
static bool keep_buffers;
static cl_mem *kept;
static size_t n_kept, cap_kept;

static void arr_free(Arr *x) {
    free(x->f), free(x->d), free(x->a);
    if (x->m && keep_buffers) {
        if (n_kept == cap_kept) {
            cap_kept = cap_kept ? 2 * cap_kept : 64;
            kept = realloc(kept, cap_kept * sizeof *kept);
            if (!kept) {
                fprintf(stderr, "op_bench: out of host memory\n");
                exit(1);
            }
        }
        kept[n_kept++] = x->m;
    } else if (x->m) {
        clReleaseMemObject(x->m);
    }
    memset(x, 0, sizeof *x);
}

static int read_back(MbnDevice *dev, Arr *x) {
    MBN_CL_CHECK(clEnqueueReadBuffer(dev->queue, x->m, CL_TRUE, 0, x->n * sizeof(float), x->f, 0,
                                     NULL, NULL),
                 "reading a result");
    return MBN_OK;
}

/* worst |got - want| / (2 (K + 2) u sum|terms|), or / (1e-4 (1 + |want|)) when sabs is NULL */
static double worst_ratio(const float *got, const double *want, const double *sabs, double K,
                          size_t n) {
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double tol = sabs ? 2 * (K + 2) * U * sabs[i] + 1e-30 : 1e-4 * (1 + fabs(want[i]));
        double r = fabs(got[i] - want[i]) / tol;
        if (!(r <= worst)) worst = r; /* NaN wins */
    }
    return worst;
}

typedef struct {
    int v[6];
    int n;
} Shape;

typedef struct {
    MbnOp op;
    Shape s;
    double flops, bytes;
    /* inputs and outputs, created per shape */
    Arr in[6], out[3], scratch;
    double *want[3], *wabs[3];
    double K; /* terms per output sum, for the bound */
} Case;

static int parse_shape(const char *text, Shape *s) {
    s->n = 0;
    const char *p = text;
    while (*p && s->n < 6) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 1) return -1;
        s->v[s->n++] = (int)v;
        p = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') return -1;
    }
    return *p ? -1 : 0;
}

static int need_args(MbnOp op) {
    if (op == MBN_OP_STEM_FWD) return 5;
    if (op == MBN_OP_DWPW_FWD) return 6;
    return op <= MBN_OP_DW_BWD_WEIGHT ? 5 : (op == MBN_OP_BN_FWD || op == MBN_OP_BN_BWD) ? 2 : 3;
}

/* wt = w [rows, cols] transposed as the device's GEMM reads forward weights (packed in 32-column
 * panels on the cpu rows): through mbn_op_transpose, as the network prepares them. */
static void upload_transposed(MbnDevice *dev, const Arr *w, Arr *wt, int rows, int cols) {
    if (mbn_op_transpose(dev, MBN_BUF(w->m, 0), MBN_BUF(wt->m, 0), rows, cols) != MBN_OK ||
        clFinish(dev->queue) != CL_SUCCESS) {
        fprintf(stderr, "op_bench: transposing a %dx%d weight: %s\n", rows, cols, mbn_last_error());
        exit(1);
    }
}

/* Default shapes: a few MobileNet V1 1.0-224 layers at batch B. */
static int default_shapes(MbnOp op, int B, Shape *out) {
    static const int dw[][4] = {
        {112, 112, 32, 1}, {112, 112, 64, 2}, {28, 28, 256, 1}, {14, 14, 512, 1}, {7, 7, 1024, 1}};
    static const int pw[][3] = {{112 * 112, 32, 64},
                                {56 * 56, 128, 128},
                                {28 * 28, 256, 256},
                                {14 * 14, 512, 512},
                                {7 * 7, 1024, 1024}};
    static const int pw_after_dw[5] = {64, 128, 256, 512, 1024}; /* the pointwise layer's Cout */
    int n = 0;
    if (op == MBN_OP_STEM_FWD) {
        out[n++] = (Shape){{B, 224, 224, 32, 2}, 5};
        return n;
    }
    for (int i = 0; i < 5; i++) {
        Shape *s = &out[n++];
        if (op == MBN_OP_DWPW_FWD)
            *s = (Shape){{B, dw[i][0], dw[i][1], dw[i][2], dw[i][3], pw_after_dw[i]}, 6};
        else if (op <= MBN_OP_DW_BWD_WEIGHT)
            *s = (Shape){{B, dw[i][0], dw[i][1], dw[i][2], dw[i][3]}, 5};
        else if (op == MBN_OP_BN_FWD || op == MBN_OP_BN_BWD)
            *s = (Shape){{B * dw[i][0] * dw[i][1], dw[i][2]}, 2};
        else
            *s = (Shape){{B * pw[i][0], pw[i][1], pw[i][2]}, 3};
    }
    return n;
}

/* Inputs, the reference result and the work measures of one op on one shape. */
static void case_build(MbnDevice *dev, Case *c) {
    int *v = c->s.v;
    switch (c->op) {
    case MBN_OP_DW_FWD:
    case MBN_OP_DW_BWD_INPUT:
    case MBN_OP_DW_BWD_WEIGHT: {
        int N = v[0], H = v[1], W = v[2], C = v[3], s = v[4];
        int Ho = ref_out(H, s), Wo = ref_out(W, s);
        size_t nx = (size_t)N * H * W * C, ny = (size_t)N * Ho * Wo * C, nw = 9 * (size_t)C;
        c->flops = 2.0 * 9 * ny;
        c->in[0] = arr_new(dev, nx, 0, 6);  /* x */
        c->in[1] = arr_new(dev, nw, -1, 1); /* w */
        c->in[2] = arr_new(dev, ny, -1, 1); /* dy */
        c->scratch = arr_new(dev, mbn_net_scratch_floats(ny, C), 0, 0);
        if (c->op == MBN_OP_DW_FWD) {
            c->out[0] = arr_new(dev, ny, 0, 0);
            c->want[0] = malloc(ny * sizeof(double)), c->wabs[0] = malloc(ny * sizeof(double));
            ref_dw_fwd(c->in[0].d, c->in[1].d, NULL, c->want[0], N, H, W, C, s);
            ref_dw_fwd(c->in[0].a, c->in[1].a, NULL, c->wabs[0], N, H, W, C, s);
            c->K = 9, c->bytes = 4.0 * (nx + ny + nw);
        } else if (c->op == MBN_OP_DW_BWD_INPUT) {
            c->out[0] = arr_new(dev, nx, 0, 0);
            c->want[0] = malloc(nx * sizeof(double)), c->wabs[0] = malloc(nx * sizeof(double));
            ref_dw_bwd_input(c->in[2].d, c->in[1].d, c->want[0], N, H, W, C, s);
            ref_dw_bwd_input(c->in[2].a, c->in[1].a, c->wabs[0], N, H, W, C, s);
            c->K = 9, c->bytes = 4.0 * (nx + ny + nw);
        } else {
            c->out[0] = arr_new(dev, nw, 0, 0);
            c->want[0] = malloc(nw * sizeof(double)), c->wabs[0] = malloc(nw * sizeof(double));
            ref_dw_bwd_weight(c->in[0].d, c->in[2].d, c->want[0], N, H, W, C, s);
            ref_dw_bwd_weight(c->in[0].a, c->in[2].a, c->wabs[0], N, H, W, C, s);
            c->K = (double)N * Ho * Wo, c->bytes = 4.0 * (nx + ny);
        }
        break;
    }
    case MBN_OP_BN_FWD:
    case MBN_OP_BN_BWD: {
        size_t M = (size_t)v[0];
        int C = v[1];
        size_t n = M * C;
        c->in[0] = arr_new(dev, n, -2, 3);     /* z */
        c->in[1] = arr_new(dev, C, 0.5, 2);    /* gamma */
        c->in[2] = arr_new(dev, C, -0.5, 1);   /* beta */
        c->in[3] = arr_new(dev, C, -0.1, 0.1); /* running mean */
        c->in[4] = arr_new(dev, C, 0.9, 1.1);  /* running var */
        c->in[5] = arr_new(dev, n, -1, 1);     /* dy */
        c->out[0] = arr_new(dev, n, 0, 0);     /* y or dz */
        c->out[1] = arr_new(dev, C, 0, 0);     /* save mean / dgamma */
        c->out[2] = arr_new(dev, C, 0, 0);     /* save invstd / dbeta */
        c->scratch = arr_new(dev, mbn_net_scratch_floats(M, C), 0, 0);
        for (int k = 0; k < 3; k++)
            c->want[k] = malloc((k ? (size_t)C : n) * sizeof(double));
        double *mean = malloc(C * sizeof(double)), *is = malloc(C * sizeof(double));
        ref_bn_relu6_train(c->in[0].d, c->in[1].d, c->in[2].d, NULL, NULL, 0.1, 1e-5, M, C,
                           c->want[0], mean, is);
        if (c->op == MBN_OP_BN_FWD) {
            memcpy(c->want[1], mean, C * sizeof(double));
            memcpy(c->want[2], is, C * sizeof(double));
            c->bytes = 4.0 * 2 * n; /* at least: read z, write y */
        } else {
            /* backward from the exact statistics, uploaded as float like the device gets them */
            for (int i = 0; i < C; i++) {
                c->out[1].f[i] = (float)mean[i], c->out[2].f[i] = (float)is[i];
                mean[i] = c->out[1].f[i], is[i] = c->out[2].f[i];
            }
            clEnqueueWriteBuffer(dev->queue, c->out[1].m, CL_TRUE, 0, C * 4, c->out[1].f, 0, NULL,
                                 NULL);
            clEnqueueWriteBuffer(dev->queue, c->out[2].m, CL_TRUE, 0, C * 4, c->out[2].f, 0, NULL,
                                 NULL);
            c->in[3] = (arr_free(&c->in[3]), arr_new(dev, C, 0, 0)); /* dgamma */
            c->in[4] = (arr_free(&c->in[4]), arr_new(dev, C, 0, 0)); /* dbeta */
            ref_bn_relu6_bwd(c->in[5].d, c->in[0].d, c->in[1].d, c->in[2].d, mean, is, M, C,
                             c->want[0], c->want[1], c->want[2]);
            c->bytes = 4.0 * 3 * n; /* at least: read dy and z, write dz */
        }
        c->flops = 10.0 * n;
        free(mean), free(is);
        break;
    }
    case MBN_OP_GEMM:
    case MBN_OP_GEMM_WGRAD: {
        size_t M = (size_t)v[0];
        int A = v[1], B = v[2]; /* gemm: K, N; wgrad: Cin, Cout */
        c->flops = 2.0 * M * A * B;
        if (c->op == MBN_OP_GEMM) {
            c->in[0] = arr_new(dev, M * A, -1, 1);         /* x [M, K] */
            c->in[1] = arr_new(dev, (size_t)A * B, -1, 1); /* w [N, K], as the reference takes it */
            c->in[2] = arr_new(dev, (size_t)A * B, 0, 0);  /* wt [K, N], as the op takes it */
            upload_transposed(dev, &c->in[1], &c->in[2], B, A);
            c->out[0] = arr_new(dev, M * B, 0, 0);
            c->want[0] = malloc(M * B * sizeof(double)),
            c->wabs[0] = malloc(M * B * sizeof(double));
            ref_pw_fwd(c->in[0].d, c->in[1].d, c->want[0], M, A, B);
            ref_pw_fwd(c->in[0].a, c->in[1].a, c->wabs[0], M, A, B);
            c->K = A, c->bytes = 4.0 * (M * A + (double)A * B + M * B);
        } else {
            c->in[0] = arr_new(dev, M * A, 0, 6);  /* x [M, Cin] */
            c->in[1] = arr_new(dev, M * B, -1, 1); /* dy [M, Cout] */
            c->in[2] = arr_new(dev, M * B, 0, 0);  /* workspace */
            c->out[0] = arr_new(dev, (size_t)A * B, 0, 0);
            c->scratch = arr_new(dev, mbn_net_scratch_floats(M, B), 0, 0);
            size_t nw = (size_t)A * B;
            c->want[0] = malloc(nw * sizeof(double)), c->wabs[0] = malloc(nw * sizeof(double));
            ref_pw_bwd_weight(c->in[0].d, c->in[1].d, c->want[0], M, A, B);
            ref_pw_bwd_weight(c->in[0].a, c->in[1].a, c->wabs[0], M, A, B);
            c->K = (double)M, c->bytes = 4.0 * (M * A + M * B);
        }
        break;
    }
    case MBN_OP_STEM_FWD: {
        int N = v[0], H = v[1], W = v[2], Cout = v[3], st = v[4];
        size_t M = (size_t)N * ref_out(H, st) * ref_out(W, st), nx = (size_t)N * H * W * 3;
        c->in[0] = arr_new(dev, nx, -1, 1);                /* x [N, H, W, 3] */
        c->in[1] = arr_new(dev, 27 * (size_t)Cout, -1, 1); /* w [Cout, 27] */
        c->in[2] = arr_new(dev, 27 * (size_t)Cout, 0, 0);  /* wt */
        c->in[3] = arr_new(dev, M * 27, 0, 0);             /* patches (the im2col row) */
        upload_transposed(dev, &c->in[1], &c->in[2], Cout, 27);
        c->out[0] = arr_new(dev, M * Cout, 0, 0);
        c->want[0] = malloc(M * Cout * sizeof(double));
        c->wabs[0] = malloc(M * Cout * sizeof(double));
        ref_stem_fwd(c->in[0].d, c->in[1].d, c->want[0], N, H, W, Cout, st);
        ref_stem_fwd(c->in[0].a, c->in[1].a, c->wabs[0], N, H, W, Cout, st);
        c->K = 27, c->flops = 2.0 * 27 * M * Cout;
        c->bytes = 4.0 * (nx + M * Cout + 27.0 * Cout);
        break;
    }
    case MBN_OP_DWPW_FWD: {
        int N = v[0], H = v[1], W = v[2], C = v[3], st = v[4], Cout = v[5];
        size_t M = (size_t)N * ref_out(H, st) * ref_out(W, st), nx = (size_t)N * H * W * C;
        size_t nd = M * C, ny = M * Cout, nw = (size_t)Cout * C;
        c->in[0] = arr_new(dev, nx, -3, 3);            /* x */
        c->in[1] = arr_new(dev, 9 * (size_t)C, -1, 1); /* depthwise w */
        c->in[2] = arr_new(dev, C, -2, 5);             /* depthwise (folded BN) bias */
        c->in[3] = arr_new(dev, nw, -0.5, 0.5);        /* pointwise w [Cout, C] */
        c->in[4] = arr_new(dev, nw, 0, 0);             /* its transpose, as the op takes it */
        c->in[5] = arr_new(dev, Cout, -2, 3);          /* pointwise bias */
        upload_transposed(dev, &c->in[3], &c->in[4], Cout, C);
        c->scratch = arr_new(dev, nd, 0, 0); /* the depthwise output when not fused */
        c->out[0] = arr_new(dev, ny, 0, 0);
        /* relu6(pw(relu6(dw(x) + b1)) + b2), and the bound of test_ops_forward's test_dwpw:
         * (C + 15) u (|pw|(|dw|(|x|) + |b1|) + |b2|), i.e. K = C + 13 in worst_ratio's
         * (K + 2) u sabs. */
        double *d = malloc(nd * sizeof(double)), *dabs = malloc(nd * sizeof(double));
        c->want[0] = malloc(ny * sizeof(double)), c->wabs[0] = malloc(ny * sizeof(double));
        ref_dw_fwd(c->in[0].d, c->in[1].d, c->in[2].d, d, N, H, W, C, st);
        ref_pw_fwd(d, c->in[3].d, c->want[0], M, C, Cout);
        ref_dw_fwd(c->in[0].a, c->in[1].a, NULL, dabs, N, H, W, C, st);
        for (size_t i = 0; i < nd; i++)
            dabs[i] += c->in[2].a[i % C];
        ref_pw_fwd(dabs, c->in[3].a, c->wabs[0], M, C, Cout);
        for (size_t i = 0; i < ny; i++) {
            double b2 = c->in[5].d[i % Cout];
            c->want[0][i] = fmin(fmax(c->want[0][i] + b2, 0.0), 6.0);
            c->wabs[0][i] += fabs(b2);
        }
        free(d), free(dabs);
        c->K = C + 13, c->flops = 2.0 * M * C * (9 + Cout);
        c->bytes = 4.0 * (nx + ny + 9.0 * C + (double)nw); /* fused: y_dw never crosses memory */
        break;
    }
    default:
        break;
    }
}

static void case_free(Case *c) {
    for (int i = 0; i < 6; i++)
        arr_free(&c->in[i]);
    for (int i = 0; i < 3; i++) {
        arr_free(&c->out[i]);
        free(c->want[i]), free(c->wabs[i]);
        c->want[i] = c->wabs[i] = NULL;
    }
    arr_free(&c->scratch);
}

#define B_(a) MBN_BUF((a).m, 0)

static int case_run(MbnDevice *d, Case *c) {
    int *v = c->s.v;
    switch (c->op) {
    case MBN_OP_DW_FWD:
        return mbn_op_dw_fwd(d, B_(c->in[0]), B_(c->in[1]), MBN_NOBUF, B_(c->out[0]), v[0], v[1],
                             v[2], v[3], v[4]);
    case MBN_OP_DW_BWD_INPUT:
        return mbn_op_dw_bwd_input(d, B_(c->in[2]), B_(c->in[1]), B_(c->out[0]), v[0], v[1], v[2],
                                   v[3], v[4]);
    case MBN_OP_DW_BWD_WEIGHT:
        return mbn_op_dw_bwd_weight(d, B_(c->in[0]), B_(c->in[2]), B_(c->out[0]), v[0], v[1], v[2],
                                    v[3], v[4], B_(c->scratch));
    case MBN_OP_BN_FWD: /* (the running statistics drift over the calls; nothing reads them) */
        return mbn_op_bn_relu6_train(d, B_(c->in[0]), B_(c->in[1]), B_(c->in[2]), B_(c->in[3]),
                                     B_(c->in[4]), 0.1f, 1e-5f, (size_t)v[0], v[1], B_(c->out[0]),
                                     B_(c->out[1]), B_(c->out[2]), B_(c->scratch));
    case MBN_OP_BN_BWD:
        return mbn_op_bn_relu6_bwd(d, B_(c->in[5]), B_(c->in[0]), B_(c->in[1]), B_(c->in[2]),
                                   B_(c->out[1]), B_(c->out[2]), (size_t)v[0], v[1], B_(c->out[0]),
                                   B_(c->in[3]), B_(c->in[4]), B_(c->scratch));
    case MBN_OP_GEMM:
        return mbn_op_pw_fwd_t(d, B_(c->in[0]), B_(c->in[2]), MBN_NOBUF, B_(c->out[0]),
                               (size_t)v[0], v[1], v[2]);
    case MBN_OP_STEM_FWD:
        return mbn_op_stem_fwd(d, B_(c->in[0]), B_(c->in[2]), MBN_NOBUF, B_(c->out[0]), v[0], v[1],
                               v[2], v[4], v[3], B_(c->in[3]));
    case MBN_OP_DWPW_FWD:
        return mbn_op_dwpw_fwd(d, B_(c->in[0]), B_(c->in[1]), B_(c->in[2]), B_(c->in[4]),
                               B_(c->in[5]), B_(c->scratch), B_(c->out[0]), v[0], v[1], v[2], v[3],
                               v[4], v[5]);
    case MBN_OP_GEMM_WGRAD:
        return mbn_op_pw_bwd_weight_ws(d, B_(c->in[0]), B_(c->in[1]), B_(c->out[0]), (size_t)v[0],
                                       v[1], v[2], B_(c->scratch), B_(c->in[2]));
    default:
        return mbn_fail(MBN_EUSAGE, "op %s has no harness", mbn_op_name(c->op));
    }
}

/* The worst error ratio over the op's outputs. */
static int case_check(MbnDevice *d, Case *c, double *worst) {
    *worst = 0;
    bool bn = c->op == MBN_OP_BN_FWD || c->op == MBN_OP_BN_BWD;
    int outs = bn ? 3 : 1;
    for (int k = 0; k < outs; k++) {
        /* BN backward: dgamma and dbeta live in in[3], in[4] */
        Arr *a = c->op == MBN_OP_BN_BWD && k > 0 ? &c->in[2 + k] : &c->out[k];
        MBN_TRY(read_back(d, a));
        double r = worst_ratio(a->f, c->want[k], bn ? NULL : c->wabs[k], c->K, a->n);
        if (!(r <= *worst)) *worst = r;
    }
    return MBN_OK;
}

typedef struct {
    const char *row;
    MbnVariantOverride ov;
} Pick;

static int parse_variant(char *text, Pick *p) {
    memset(p, 0, sizeof *p);
    char *colon = strchr(text, ':');
    if (colon) *colon = 0;
    const MbnVariant *row = mbn_variant_find(text);
    if (!row)
        return mbn_fail(MBN_EUSAGE, "--variant %s: no such row (see mbn devices --json)", text);
    p->row = row->name;
    p->ov.op = row->op;
    p->ov.row = row->name;
    for (char *q = colon ? colon + 1 : NULL; q && *q;) {
        char *next = strchr(q, ':');
        if (next) *next++ = 0;
        char *eq = strchr(q, '=');
        if (!eq || p->ov.n == MBN_VARIANT_MAX_PARAMS)
            return mbn_fail(MBN_EUSAGE, "--variant %s: expected NAME=VALUE, got %s", text, q);
        *eq = 0;
        p->ov.param[p->ov.n] = q;
        p->ov.value[p->ov.n++] = atoi(eq + 1);
        q = next;
    }
    return MBN_OK;
}

static void usage(void) {
    fprintf(stderr,
            "usage: op_bench OP [--shape S]... [--variant ROW[:NAME=V]...]... [--iterations K]\n"
            "                   [--family F] [--batch B] [--device SEL] [--keep-buffers]\n"
            "OP: dw_fwd dw_bwd_input dw_bwd_weight (S = N,H,W,C,stride), bn_fwd bn_bwd (M,C),\n"
            "    gemm (M,K,N), gemm_wgrad (M,Cin,Cout), stem_fwd (N,H,W,Cout,stride),\n"
            "    dwpw_fwd (N,H,W,C,stride,Cout)\n"
            "       op_bench --list-kernels|--peak-once [--device SEL]\n");
}

/* Every kernel in the program mbn builds for the device, one name a line: what ci/oclgrind.sh
 * must see run. */
static int list_kernels(const MbnDevice *dev) {
    size_t len = 0;
    char *names = NULL;
    cl_int err = clGetProgramInfo(dev->program, CL_PROGRAM_KERNEL_NAMES, 0, NULL, &len);
    if (err == CL_SUCCESS && (names = malloc(len + 1)) != NULL)
        err = clGetProgramInfo(dev->program, CL_PROGRAM_KERNEL_NAMES, len, names, NULL);
    if (err != CL_SUCCESS || !names) {
        fprintf(stderr, "op_bench: clGetProgramInfo(CL_PROGRAM_KERNEL_NAMES): %s\n",
                mbn_cl_error_name(err));
        free(names);
        return 1;
    }
    names[len] = 0;
    for (char *p = strtok(names, ";"); p; p = strtok(NULL, ";"))
        printf("%s\n", p);
    free(names);
    return 0;
}

/* --list-kernels or --peak-once (each FMA-peak kernel once, on 64 work-items for 2 iterations:
 * the peak measurement's kernels under oclgrind) on the selected device. */
static int device_command(const char *what, const char *device) {
    MbnDevice dev;
    if (tdev_open_selected(&dev, device) != MBN_OK) {
        fprintf(stderr, "op_bench: %s\n", mbn_last_error());
        return 1;
    }
    int rc = 0;
    if (!strcmp(what, "--list-kernels")) {
        rc = list_kernels(&dev);
    } else if (mbn_peak_run_once(&dev, 64, 2) != MBN_OK) {
        fprintf(stderr, "op_bench: %s\n", mbn_last_error());
        rc = 1;
    } else {
        printf("peak kernels ran on %s\n", dev.info.name);
    }
    mbn_device_close(&dev);
    return rc;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage();
        return 2;
    }
    if (!strcmp(argv[1], "--list-kernels") || !strcmp(argv[1], "--peak-once")) {
        if (argc != 2 && (argc != 4 || strcmp(argv[2], "--device"))) {
            usage();
            return 2;
        }
        return device_command(argv[1], argc == 4 ? argv[3] : NULL);
    }
    int op = -1;
    for (int i = 0; i < MBN_OP_COUNT; i++)
        if (strcmp(argv[1], mbn_op_name((MbnOp)i)) == 0) op = i;
    if (op < 0) {
        fprintf(stderr, "op_bench: unknown op %s\n", argv[1]);
        usage();
        return 2;
    }
    Shape shapes[32];
    int n_shapes = 0, iterations = 10, batch = 8, family = MBN_FAMILY_AUTO;
    Pick picks[16];
    int n_picks = 0;
    const char *device = NULL;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--keep-buffers")) {
            keep_buffers = true;
            continue;
        }
        if (i + 1 >= argc) {
            usage();
            return 2;
        }
        if (!strcmp(a, "--shape") && n_shapes < 32) {
            if (parse_shape(argv[++i], &shapes[n_shapes]) ||
                shapes[n_shapes].n != need_args((MbnOp)op)) {
                fprintf(stderr, "op_bench: --shape %s: %s takes %d numbers\n", argv[i], argv[1],
                        need_args((MbnOp)op));
                return 2;
            }
            n_shapes++;
        } else if (!strcmp(a, "--variant") && n_picks < 16) {
            if (parse_variant(argv[++i], &picks[n_picks]) != MBN_OK) {
                fprintf(stderr, "op_bench: %s\n", mbn_last_error());
                return 2;
            }
            if (picks[n_picks].ov.op != (MbnOp)op) {
                fprintf(stderr, "op_bench: --variant %s is not a %s row\n", argv[i], argv[1]);
                return 2;
            }
            n_picks++;
        } else if (!strcmp(a, "--family")) {
            if (mbn_family_parse(argv[++i], &family) != MBN_OK || family == MBN_FAMILY_AUTO) {
                fprintf(stderr, "op_bench: --family %s: expected generic, cpu or gpu\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(a, "--iterations")) {
            iterations = atoi(argv[++i]);
        } else if (!strcmp(a, "--batch")) {
            batch = atoi(argv[++i]);
        } else if (!strcmp(a, "--device")) {
            device = argv[++i];
        } else {
            usage();
            return 2;
        }
    }
    if (iterations < 0 || batch < 1) {
        usage();
        return 2;
    }
    if (!n_shapes) n_shapes = default_shapes((MbnOp)op, batch, shapes);
    MbnDeviceInfo *all = NULL;
    int count = 0, *sel = NULL, n_sel = 0;
    if (mbn_devices_list(&all, &count) || mbn_devices_select(device, all, count, &sel, &n_sel)) {
        fprintf(stderr, "op_bench: %s\n", mbn_last_error());
        return 2;
    }
    MbnDeviceInfo *info = &all[sel[0]];
    tdev_test_profile(info); /* MBN_TEST_VECTOR_FLOATS (tests/support/devutil.h) */
    if (!n_picks) {
        const MbnVariant *rows[16];
        int n = mbn_variants_candidates(&info->profile, (MbnOp)op, rows, 16);
        for (int i = 0; i < n && i < 16; i++) {
            if (family != MBN_FAMILY_AUTO && rows[i]->family != family) continue;
            memset(&picks[n_picks], 0, sizeof picks[0]);
            picks[n_picks].row = rows[i]->name;
            picks[n_picks].ov.op = (MbnOp)op;
            picks[n_picks].ov.row = rows[i]->name;
            n_picks++;
        }
    }
    printf("op_bench %s on %s, %d iteration(s) per timing\n", argv[1], info->name, iterations);
    printf("%-28s %-60s %10s %9s %8s %9s %s\n", "shape", "variant", "ms", "GFLOP/s", "GB/s",
           "err/bound", "launches");
    int failures = 0;
    for (int p = 0; p < n_picks; p++) {
        MbnDevice dev;
        if (mbn_device_open_with(&dev, info, &picks[p].ov, 1) != MBN_OK) {
            printf("%-28s %-60s skipped: %s\n", "", picks[p].row, mbn_last_error());
            continue;
        }
        char desc[160];
        mbn_variant_describe(&dev.variants.op[op], desc, sizeof desc);
        for (int s = 0; s < n_shapes; s++) {
            Case c;
            memset(&c, 0, sizeof c);
            c.op = (MbnOp)op;
            c.s = shapes[s];
            case_build(&dev, &c);
            char shape[64] = "";
            for (int k = 0; k < c.s.n; k++)
                snprintf(shape + strlen(shape), sizeof shape - strlen(shape), "%s%d", k ? "," : "",
                         c.s.v[k]);
            double worst = 0, t = 0;
            unsigned long long l0 = 0;
            unsigned long fb0 = dev.variants.fallbacks[op];
            int rc = case_run(&dev, &c);
            if (rc == MBN_OK) rc = case_check(&dev, &c, &worst);
            if (rc == MBN_OK && clFinish(dev.queue) == CL_SUCCESS && iterations > 0) {
                l0 = dev.launches;
                double t0 = mbn_now();
                for (int it = 0; it < iterations && rc == MBN_OK; it++)
                    rc = case_run(&dev, &c);
                if (clFinish(dev.queue) != CL_SUCCESS && rc == MBN_OK) rc = MBN_EFAIL;
                t = (mbn_now() - t0) / iterations;
            }
            if (rc != MBN_OK) {
                printf("%-28s %-60s error: %s\n", shape, desc, mbn_last_error());
                failures++;
            } else {
                bool ok = worst <= 1.0;
                failures += !ok;
                const char *fell_back =
                    dev.variants.fallbacks[op] > fb0 ? "  (ran the generic row: shape)" : "";
                if (iterations > 0)
                    printf("%-28s %-60s %10.3f %9.1f %8.1f %9.3f %.0f%s%s\n", shape, desc, t * 1e3,
                           c.flops / t * 1e-9, c.bytes / t * 1e-9, worst,
                           (double)(dev.launches - l0) / iterations, ok ? "" : "  FAIL", fell_back);
                else
                    printf("%-28s %-60s %10s %9s %8s %9.3f %s%s%s\n", shape, desc, "-", "-", "-",
                           worst, "-", ok ? "" : "  FAIL", fell_back);
            }
            case_free(&c);
        }
        mbn_device_close(&dev);
    }
    for (size_t i = 0; i < n_kept; i++)
        clReleaseMemObject(kept[i]);
    free(kept);
    free(sel);
    free(all);
    return failures ? 1 : 0;
}
