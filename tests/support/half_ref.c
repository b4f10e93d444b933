#include "tests/support/half_ref.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/half.h"
#include "tests/support/ref.h"
#include "tests/support/testutil.h"

static double *tensor(const StFile *st, const char *prefix, const char *suffix, size_t want) {
    char name[128];
    snprintf(name, sizeof name, "%s.%s", prefix, suffix);
    return st_f64_want(st, name, want);
}

/* Layer l's weight, BN folded, in the reference's layout (depthwise [9, C]), and its bias. */
static void folded(const MbnLayer *L, const StFile *st, double eps, double **w, double **b) {
    int K = mbn_layer_k(L), C = L->cout;
    double *raw = tensor(st, L->timm, "weight", (size_t)C * K);
    double *g = tensor(st, L->timm_bn, "weight", C), *be = tensor(st, L->timm_bn, "bias", C);
    double *mu = tensor(st, L->timm_bn, "running_mean", C);
    double *var = tensor(st, L->timm_bn, "running_var", C);
    *w = T_NEW(double, (size_t)C *K);
    *b = T_NEW(double, C);
    if (L->type == MBN_LAYER_DW) { /* timm [C, 1, 3, 3] -> [9, C] */
        double *t = T_NEW(double, (size_t)C * 9);
        for (int c = 0; c < C; c++)
            for (int k = 0; k < 9; k++)
                t[(size_t)k * C + c] = raw[(size_t)c * 9 + k];
        free(raw);
        raw = t;
    }
    ref_bn_fold(raw, g, be, mu, var, eps, C, K, L->type == MBN_LAYER_DW, *w, *b);
    free(raw), free(g), free(be), free(mu), free(var);
}

/* y = conv_l(x, w) (no bias) for the layer's type. */
static void conv(const MbnLayer *L, const double *x, const double *w, double *y, int N) {
    size_t M = (size_t)N * L->hout * L->wout;
    if (L->type == MBN_LAYER_STEM)
        ref_stem_fwd(x, w, y, N, L->hin, L->win, L->cout, L->stride);
    else if (L->type == MBN_LAYER_DW)
        ref_dw_fwd(x, w, NULL, y, N, L->hin, L->win, L->cin, L->stride);
    else
        ref_pw_fwd(x, w, y, M, L->cin, L->cout);
}

static double *map2(const double *a, size_t n, double (*f)(double)) {
    double *r = T_NEW(double, n);
    for (size_t i = 0; i < n; i++)
        r[i] = f(a[i]);
    return r;
}

static double sq(double v) {
    return v * v;
}

void half_ref_forward(const MbnArch *a, const StFile *st, const double *x0, int N, double *logits,
                      double *sigma) {
    const double u = MBN_HALF_U;
    int pool = a->n_layers - 2;
    size_t n_in = (size_t)N * a->resolution * a->resolution * 3;
    double *x = T_NEW(double, n_in), *var = T_NEW(double, n_in);
    memcpy(x, x0, n_in * sizeof *x); /* the image is float: no error yet */
    for (int l = 0; l < pool; l++) {
        const MbnLayer *L = &a->layers[l];
        int K = mbn_layer_k(L);
        size_t nw = (size_t)L->cout * K, ny = (size_t)N * L->hout * L->wout * L->cout;
        double *w, *b;
        folded(L, st, a->bn_eps, &w, &b);
        double *w2 = map2(w, nw, sq), *x2 = map2(x, n_in, sq);
        double *z = T_NEW(double, ny), *v1 = T_NEW(double, ny), *v2 = T_NEW(double, ny);
        conv(L, x, w, z, N);
        conv(L, var, w2, v1, N); /* the rounded activations of the layer before */
        conv(L, x2, w2, v2, N);  /* the rounded weights (the stem's stay float) */
        double uw = L->type == MBN_LAYER_STEM ? 0.0 : u * u / 3;
        for (size_t i = 0; i < ny; i++) {
            double zi = z[i] + b[i % L->cout], y = fmin(fmax(zi, 0.0), 6.0);
            v1[i] = (zi > 0.0 && zi < 6.0 ? v1[i] + uw * v2[i] : 0.0) + u * u / 3 * y * y;
            z[i] = y;
        }
        free(x), free(var), free(w), free(b), free(w2), free(x2), free(v2);
        x = z, var = v1, n_in = ny;
    }
    const MbnLayer *P = &a->layers[pool], *F = &a->layers[pool + 1];
    int HW = P->hin * P->win, C = F->cin, K = F->cout;
    double *p = T_NEW(double, (size_t)N *C), *pv = T_NEW(double, (size_t)N *C);
    ref_avgpool_fwd(x, p, N, HW, C);
    ref_avgpool_fwd(var, pv, N, HW, C);
    for (size_t i = 0; i < (size_t)N * C; i++)
        pv[i] /= HW; /* the mean of HW independent errors */
    size_t nw = (size_t)K * C;
    double *w = tensor(st, "classifier", "weight", nw), *b = tensor(st, "classifier", "bias", K);
    double *w2 = map2(w, nw, sq);
    ref_fc_fwd(p, w, b, logits, N, C, K);
    ref_fc_fwd(pv, w2, NULL, sigma, N, C, K);
    for (size_t i = 0; i < (size_t)N * K; i++)
        sigma[i] = sqrt(sigma[i]);
    free(x), free(var), free(p), free(pv), free(w), free(b), free(w2);
}
