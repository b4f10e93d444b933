/* Cross-validates the C references (tests/support/ref.c) against PyTorch's own definitions on
 * small single-op cases (tests/fixtures/ops.safetensors, from tests/gen_torch_fixtures.py):
 * the stem conv (stride 2, odd H and W), the depthwise conv forward and both gradients at
 * stride 1 and 2, BatchNorm2d training + ReLU6 forward and backward with the running-stat
 * update, MindSpore's smoothed cross-entropy and its gradient, and torch.optim.SGD with
 * momentum and weight decay over two steps. No OpenCL: this validates the oracle's
 * conventions (padding, tap order, unbiased running variance, label smoothing form, SGD form).
 *
 * The fixture's inputs were drawn in float64 and stored as float32, its outputs computed from
 * the unrounded inputs; so outputs can differ by the input rounding carried through the op:
 * at most ~K * 2^-24 relative for K-term sums. We allow 1e-5 of the tensor's largest value. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/ref.h"
#include "tests/support/st_read.h"
#include "tests/support/testutil.h"

#define RTOL 1e-5

static StFile st;

static double *load(const char *name, size_t want) {
    return st_f64_want(&st, name, want);
}

static double *nchw_to_nhwc(const double *in, int N, int C, int H, int W) {
    double *o = T_NEW(double, (size_t)N *C *H *W);
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++)
            for (int h = 0; h < H; h++)
                for (int w = 0; w < W; w++)
                    o[(((size_t)n * H + h) * W + w) * C + c] =
                        in[(((size_t)n * C + c) * H + h) * W + w];
    return o;
}

/* compares doubles from the reference with the fixture (as the "got" side, in float) */
static void cmp(const char *what, const double *ref_c, const double *torch, size_t n) {
    float *f = T_NEW(float, n);
    td2f(ref_c, f, n);
    double mx = 0;
    for (size_t i = 0; i < n; i++)
        mx = fmax(mx, fabs(torch[i]));
    T_OK(tcheck(what, f, torch, NULL, RTOL * fmax(mx, 1e-30), n));
    free(f);
}

int main(void) {
    if (st_open(&st, "tests/fixtures/ops.safetensors")) return 1;
    /* stem */
    {
        int N = 2, H = 9, W = 7, C = 5, Ho = 5, Wo = 4;
        double *x = load("stem.x_nchw", (size_t)N * 3 * H * W), *w = load("stem.w", (size_t)C * 27);
        double *y = load("stem.y_nchw", (size_t)N * C * Ho * Wo);
        double *xh = nchw_to_nhwc(x, N, 3, H, W), *yt = nchw_to_nhwc(y, N, C, Ho, Wo);
        double *z = T_NEW(double, (size_t)N *Ho *Wo *C);
        ref_stem_fwd(xh, w, z, N, H, W, C, 2);
        cmp("stem conv s2 vs F.conv2d", z, yt, (size_t)N * Ho * Wo * C);
        free(x), free(w), free(y), free(xh), free(yt), free(z);
    }
    /* depthwise */
    {
        int N = 2, C = 5, H = 9, W = 7;
        double *x = load("dw.x_nchw", (size_t)N * C * H * W), *wt = load("dw.w", 9 * (size_t)C);
        double *xh = nchw_to_nhwc(x, N, C, H, W), *w = T_NEW(double, 9 * (size_t)C);
        for (int c = 0; c < C; c++)
            for (int t = 0; t < 9; t++)
                w[t * C + c] = wt[c * 9 + t];
        for (int s = 1; s <= 2; s++) {
            int Ho = ref_out(H, s), Wo = ref_out(W, s);
            size_t ny = (size_t)N * C * Ho * Wo;
            char name[64], what[64];
            snprintf(name, sizeof name, "dw_s%d.y_nchw", s);
            double *y = load(name, ny), *yt = nchw_to_nhwc(y, N, C, Ho, Wo);
            snprintf(name, sizeof name, "dw_s%d.dy_nchw", s);
            double *dy = load(name, ny), *dyh = nchw_to_nhwc(dy, N, C, Ho, Wo);
            snprintf(name, sizeof name, "dw_s%d.dx_nchw", s);
            double *dx = load(name, (size_t)N * C * H * W), *dxt = nchw_to_nhwc(dx, N, C, H, W);
            snprintf(name, sizeof name, "dw_s%d.dw", s);
            double *dwt = load(name, 9 * (size_t)C), *dwr = T_NEW(double, 9 * (size_t)C);
            for (int c = 0; c < C; c++)
                for (int t = 0; t < 9; t++)
                    dwr[t * C + c] = dwt[c * 9 + t];
            double *o = T_NEW(double, ny), *odx = T_NEW(double, (size_t)N *C *H *W),
                   *odw = T_NEW(double, 9 * (size_t)C);
            ref_dw_fwd(xh, w, NULL, o, N, H, W, C, s);
            ref_dw_bwd_input(dyh, w, odx, N, H, W, C, s);
            ref_dw_bwd_weight(xh, dyh, odw, N, H, W, C, s);
            snprintf(what, sizeof what, "dw s%d forward vs F.conv2d(groups)", s);
            cmp(what, o, yt, ny);
            snprintf(what, sizeof what, "dw s%d grad input vs autograd", s);
            cmp(what, odx, dxt, (size_t)N * C * H * W);
            snprintf(what, sizeof what, "dw s%d grad weight vs autograd", s);
            cmp(what, odw, dwr, 9 * (size_t)C);
            free(y), free(yt), free(dy), free(dyh), free(dx), free(dxt), free(dwt), free(dwr),
                free(o), free(odx), free(odw);
        }
        free(x), free(wt), free(xh), free(w);
    }
    /* BN training + ReLU6 */
    {
        int N = 4, C = 6, H = 5, W = 3;
        size_t M = (size_t)N * H * W, n = M * C;
        double *z = nchw_to_nhwc(load("bn.z_nchw", n), N, C, H, W);
        double *y = nchw_to_nhwc(load("bn.y_nchw", n), N, C, H, W);
        double *dy = nchw_to_nhwc(load("bn.dy_nchw", n), N, C, H, W);
        double *dz = nchw_to_nhwc(load("bn.dz_nchw", n), N, C, H, W);
        double *g = load("bn.gamma", C), *b = load("bn.beta", C);
        double *rm = load("bn.running_mean_in", C), *rv = load("bn.running_var_in", C);
        double *rmo = load("bn.running_mean_out", C), *rvo = load("bn.running_var_out", C);
        double *dg = load("bn.dgamma", C), *db = load("bn.dbeta", C);
        double *oy = T_NEW(double, n), *mean = T_NEW(double, C), *is = T_NEW(double, C),
               *odz = T_NEW(double, n), *odg = T_NEW(double, C), *odb = T_NEW(double, C);
        ref_bn_relu6_train(z, g, b, rm, rv, 0.1, 1e-5, M, C, oy, mean, is);
        ref_bn_relu6_bwd(dy, z, g, b, mean, is, M, C, odz, odg, odb);
        cmp("bn+relu6 train forward vs BatchNorm2d", oy, y, n);
        cmp("bn running_mean vs BatchNorm2d", rm, rmo, C);
        cmp("bn running_var (unbiased) vs BatchNorm2d", rv, rvo, C);
        cmp("bn+relu6 dz vs autograd", odz, dz, n);
        cmp("bn dgamma vs autograd", odg, dg, C);
        cmp("bn dbeta vs autograd", odb, db, C);
    }
    /* smoothed cross-entropy */
    {
        int N = 5, K = 7;
        double *lg = load("xent.logits", (size_t)N * K), *dl = load("xent.dlogits", (size_t)N * K);
        double *loss = load("xent.loss", 1), *od = T_NEW(double, (size_t)N *K);
        size_t nl = 0;
        int32_t *lab = st_i32(&st, "xent.labels", &nl);
        if (!lab || nl != (size_t)N) return 1;
        double ol = ref_xent_smooth(lg, lab, N, K, 0.1, od);
        cmp("xent smooth loss vs -sum(t log_softmax)", &ol, loss, 1);
        cmp("xent smooth dlogits vs autograd", od, dl, (size_t)N * K);
        free(lab);
    }
    /* SGD */
    {
        double *w = load("sgd.w0", 11), *gr = load("sgd.grads", 22), *w2 = load("sgd.w2", 11);
        double v[11] = {0};
        ref_sgd(w, gr, v, 11, 0.1, 0.9, 0.01);
        ref_sgd(w, gr + 11, v, 11, 0.1, 0.9, 0.01);
        cmp("sgd 2 steps vs torch.optim.SGD", w, w2, 11);
    }
    st_close(&st);
    return t_summary("test_ref_torch");
}
