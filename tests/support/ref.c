/* Double-precision references for model/ops.h; see ref.h. Written for clarity: direct loops
 * over the definitions, no reuse of the device's decompositions. */
#include "tests/support/ref.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static double clamp6(double v) {
    return v < 0.0 ? 0.0 : v > 6.0 ? 6.0 : v;
}

/* ---- stem ---- */

void ref_stem_im2col(const double *x, int N, int H, int W, int stride, double *patches) {
    int Ho = ref_out(H, stride), Wo = ref_out(W, stride);
    for (int n = 0; n < N; n++)
        for (int oh = 0; oh < Ho; oh++)
            for (int ow = 0; ow < Wo; ow++) {
                double *p = patches + (((size_t)n * Ho + oh) * Wo + ow) * 27;
                for (int ci = 0; ci < 3; ci++)
                    for (int kh = 0; kh < 3; kh++)
                        for (int kw = 0; kw < 3; kw++) {
                            int ih = oh * stride - 1 + kh, iw = ow * stride - 1 + kw;
                            int inside = ih >= 0 && ih < H && iw >= 0 && iw < W;
                            p[ci * 9 + kh * 3 + kw] =
                                inside ? x[(((size_t)n * H + ih) * W + iw) * 3 + ci] : 0.0;
                        }
            }
}

void ref_stem_fwd(const double *x, const double *w, double *z, int N, int H, int W, int Cout,
                  int stride) {
    int Ho = ref_out(H, stride), Wo = ref_out(W, stride);
    for (int n = 0; n < N; n++)
        for (int oh = 0; oh < Ho; oh++)
            for (int ow = 0; ow < Wo; ow++)
                for (int co = 0; co < Cout; co++) {
                    double s = 0.0;
                    for (int ci = 0; ci < 3; ci++)
                        for (int kh = 0; kh < 3; kh++)
                            for (int kw = 0; kw < 3; kw++) {
                                int ih = oh * stride - 1 + kh, iw = ow * stride - 1 + kw;
                                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                                s += x[(((size_t)n * H + ih) * W + iw) * 3 + ci] *
                                     w[(((size_t)co * 3 + ci) * 3 + kh) * 3 + kw];
                            }
                    z[(((size_t)n * Ho + oh) * Wo + ow) * Cout + co] = s;
                }
}

void ref_stem_bwd_weight(const double *x, const double *dz, double *dw, int N, int H, int W,
                         int Cout, int stride) {
    int Ho = ref_out(H, stride), Wo = ref_out(W, stride);
    memset(dw, 0, (size_t)Cout * 27 * sizeof *dw);
    for (int n = 0; n < N; n++)
        for (int oh = 0; oh < Ho; oh++)
            for (int ow = 0; ow < Wo; ow++)
                for (int co = 0; co < Cout; co++) {
                    double g = dz[(((size_t)n * Ho + oh) * Wo + ow) * Cout + co];
                    for (int ci = 0; ci < 3; ci++)
                        for (int kh = 0; kh < 3; kh++)
                            for (int kw = 0; kw < 3; kw++) {
                                int ih = oh * stride - 1 + kh, iw = ow * stride - 1 + kw;
                                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                                dw[(size_t)co * 27 + ci * 9 + kh * 3 + kw] +=
                                    g * x[(((size_t)n * H + ih) * W + iw) * 3 + ci];
                            }
                }
}

void ref_stem_bwd_input(const double *dz, const double *w, double *dx, int N, int H, int W,
                        int Cout, int stride) {
    int Ho = ref_out(H, stride), Wo = ref_out(W, stride);
    memset(dx, 0, (size_t)N * H * W * 3 * sizeof *dx);
    for (int n = 0; n < N; n++)
        for (int oh = 0; oh < Ho; oh++)
            for (int ow = 0; ow < Wo; ow++)
                for (int co = 0; co < Cout; co++) {
                    double g = dz[(((size_t)n * Ho + oh) * Wo + ow) * Cout + co];
                    for (int ci = 0; ci < 3; ci++)
                        for (int kh = 0; kh < 3; kh++)
                            for (int kw = 0; kw < 3; kw++) {
                                int ih = oh * stride - 1 + kh, iw = ow * stride - 1 + kw;
                                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                                dx[(((size_t)n * H + ih) * W + iw) * 3 + ci] +=
                                    g * w[(size_t)co * 27 + ci * 9 + kh * 3 + kw];
                            }
                }
}

/* ---- depthwise ---- */

void ref_dw_fwd(const double *x, const double *w, const double *bias, double *y, int N, int H,
                int W, int C, int stride) {
    int Ho = ref_out(H, stride), Wo = ref_out(W, stride);
    for (int n = 0; n < N; n++)
        for (int oh = 0; oh < Ho; oh++)
            for (int ow = 0; ow < Wo; ow++)
                for (int c = 0; c < C; c++) {
                    double s = 0.0;
                    for (int kh = 0; kh < 3; kh++)
                        for (int kw = 0; kw < 3; kw++) {
                            int ih = oh * stride - 1 + kh, iw = ow * stride - 1 + kw;
                            if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                            s += x[(((size_t)n * H + ih) * W + iw) * C + c] *
                                 w[(size_t)(kh * 3 + kw) * C + c];
                        }
                    if (bias) s = clamp6(s + bias[c]);
                    y[(((size_t)n * Ho + oh) * Wo + ow) * C + c] = s;
                }
}

void ref_dw_bwd_input(const double *dy, const double *w, double *dx, int N, int H, int W, int C,
                      int stride) {
    int Ho = ref_out(H, stride), Wo = ref_out(W, stride);
    memset(dx, 0, (size_t)N * H * W * C * sizeof *dx);
    for (int n = 0; n < N; n++)
        for (int oh = 0; oh < Ho; oh++)
            for (int ow = 0; ow < Wo; ow++)
                for (int c = 0; c < C; c++) {
                    double g = dy[(((size_t)n * Ho + oh) * Wo + ow) * C + c];
                    for (int kh = 0; kh < 3; kh++)
                        for (int kw = 0; kw < 3; kw++) {
                            int ih = oh * stride - 1 + kh, iw = ow * stride - 1 + kw;
                            if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                            dx[(((size_t)n * H + ih) * W + iw) * C + c] +=
                                g * w[(size_t)(kh * 3 + kw) * C + c];
                        }
                }
}

void ref_dw_bwd_weight(const double *x, const double *dy, double *dw, int N, int H, int W, int C,
                       int stride) {
    int Ho = ref_out(H, stride), Wo = ref_out(W, stride);
    memset(dw, 0, (size_t)9 * C * sizeof *dw);
    for (int n = 0; n < N; n++)
        for (int oh = 0; oh < Ho; oh++)
            for (int ow = 0; ow < Wo; ow++)
                for (int c = 0; c < C; c++) {
                    double g = dy[(((size_t)n * Ho + oh) * Wo + ow) * C + c];
                    for (int kh = 0; kh < 3; kh++)
                        for (int kw = 0; kw < 3; kw++) {
                            int ih = oh * stride - 1 + kh, iw = ow * stride - 1 + kw;
                            if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                            dw[(size_t)(kh * 3 + kw) * C + c] +=
                                g * x[(((size_t)n * H + ih) * W + iw) * C + c];
                        }
                }
}

/* ---- pointwise ---- */

void ref_pw_fwd(const double *x, const double *w, double *y, size_t M, int Cin, int Cout) {
    for (size_t m = 0; m < M; m++)
        for (int co = 0; co < Cout; co++) {
            double s = 0.0;
            for (int ci = 0; ci < Cin; ci++)
                s += x[m * Cin + ci] * w[(size_t)co * Cin + ci];
            y[m * Cout + co] = s;
        }
}

void ref_pw_bwd_input(const double *dy, const double *w, double *dx, size_t M, int Cin, int Cout) {
    for (size_t m = 0; m < M; m++)
        for (int ci = 0; ci < Cin; ci++) {
            double s = 0.0;
            for (int co = 0; co < Cout; co++)
                s += dy[m * Cout + co] * w[(size_t)co * Cin + ci];
            dx[m * Cin + ci] = s;
        }
}

void ref_pw_bwd_weight(const double *x, const double *dy, double *dw, size_t M, int Cin, int Cout) {
    for (int co = 0; co < Cout; co++)
        for (int ci = 0; ci < Cin; ci++) {
            double s = 0.0;
            for (size_t m = 0; m < M; m++)
                s += dy[m * Cout + co] * x[m * Cin + ci];
            dw[(size_t)co * Cin + ci] = s;
        }
}

/* ---- BatchNorm + ReLU6 ---- */

void ref_bn_relu6_train(const double *z, const double *gamma, const double *beta,
                        double *running_mean, double *running_var, double momentum, double eps,
                        size_t M, int C, double *y, double *save_mean, double *save_invstd) {
    for (int c = 0; c < C; c++) {
        double mu = 0.0;
        for (size_t m = 0; m < M; m++)
            mu += z[m * C + c];
        mu /= (double)M;
        double ss = 0.0;
        for (size_t m = 0; m < M; m++) {
            double d = z[m * C + c] - mu;
            ss += d * d;
        }
        double var = ss / (double)M;
        double unbiased = M > 1 ? ss / (double)(M - 1) : var;
        double is = 1.0 / sqrt(var + eps);
        for (size_t m = 0; m < M; m++)
            y[m * C + c] = clamp6(gamma[c] * (z[m * C + c] - mu) * is + beta[c]);
        if (save_mean) save_mean[c] = mu;
        if (save_invstd) save_invstd[c] = is;
        if (running_mean) running_mean[c] = (1.0 - momentum) * running_mean[c] + momentum * mu;
        if (running_var) running_var[c] = (1.0 - momentum) * running_var[c] + momentum * unbiased;
    }
}

void ref_bn_relu6_bwd(const double *dy, const double *z, const double *gamma, const double *beta,
                      const double *mean, const double *invstd, size_t M, int C, double *dz,
                      double *dgamma, double *dbeta) {
    for (int c = 0; c < C; c++) {
        double sg = 0.0, sgx = 0.0;
        for (size_t m = 0; m < M; m++) {
            double xhat = (z[m * C + c] - mean[c]) * invstd[c];
            double t = gamma[c] * xhat + beta[c];
            double g = (t > 0.0 && t < 6.0) ? dy[m * C + c] : 0.0;
            sg += g;
            sgx += g * xhat;
        }
        dbeta[c] = sg;
        dgamma[c] = sgx;
        for (size_t m = 0; m < M; m++) {
            double xhat = (z[m * C + c] - mean[c]) * invstd[c];
            double t = gamma[c] * xhat + beta[c];
            double g = (t > 0.0 && t < 6.0) ? dy[m * C + c] : 0.0;
            dz[m * C + c] = gamma[c] * invstd[c] * (g - sg / (double)M - xhat * sgx / (double)M);
        }
    }
}

void ref_bn_fold(const double *w, const double *gamma, const double *beta, const double *mean,
                 const double *var, double eps, int C, int K, int channel_minor, double *w_out,
                 double *b_out) {
    for (int c = 0; c < C; c++) {
        double s = gamma[c] / sqrt(var[c] + eps);
        b_out[c] = beta[c] - mean[c] * s;
        for (int k = 0; k < K; k++) {
            size_t i = channel_minor ? (size_t)k * C + c : (size_t)c * K + k;
            w_out[i] = w[i] * s;
        }
    }
}

void ref_bn_relu6_eval(const double *z, const double *gamma, const double *beta, const double *mean,
                       const double *var, double eps, size_t M, int C, double *y) {
    for (size_t m = 0; m < M; m++)
        for (int c = 0; c < C; c++)
            y[m * C + c] =
                clamp6(gamma[c] * (z[m * C + c] - mean[c]) / sqrt(var[c] + eps) + beta[c]);
}

void ref_bias_relu6(double *y, const double *b, size_t M, int C) {
    for (size_t m = 0; m < M; m++)
        for (int c = 0; c < C; c++)
            y[m * C + c] = clamp6(y[m * C + c] + b[c]);
}

/* ---- head ---- */

void ref_avgpool_fwd(const double *x, double *y, int N, int HW, int C) {
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) {
            double s = 0.0;
            for (int i = 0; i < HW; i++)
                s += x[((size_t)n * HW + i) * C + c];
            y[(size_t)n * C + c] = s / HW;
        }
}

void ref_avgpool_bwd(const double *dy, double *dx, int N, int HW, int C) {
    for (int n = 0; n < N; n++)
        for (int i = 0; i < HW; i++)
            for (int c = 0; c < C; c++)
                dx[((size_t)n * HW + i) * C + c] = dy[(size_t)n * C + c] / HW;
}

void ref_fc_fwd(const double *x, const double *w, const double *b, double *y, int N, int C, int K) {
    for (int n = 0; n < N; n++)
        for (int k = 0; k < K; k++) {
            double s = b ? b[k] : 0.0;
            for (int c = 0; c < C; c++)
                s += x[(size_t)n * C + c] * w[(size_t)k * C + c];
            y[(size_t)n * K + k] = s;
        }
}

void ref_fc_bwd(const double *x, const double *w, const double *dy, double *dx, double *dw,
                double *db, int N, int C, int K) {
    if (dx)
        for (int n = 0; n < N; n++)
            for (int c = 0; c < C; c++) {
                double s = 0.0;
                for (int k = 0; k < K; k++)
                    s += dy[(size_t)n * K + k] * w[(size_t)k * C + c];
                dx[(size_t)n * C + c] = s;
            }
    for (int k = 0; k < K; k++) {
        for (int c = 0; c < C; c++) {
            double s = 0.0;
            for (int n = 0; n < N; n++)
                s += dy[(size_t)n * K + k] * x[(size_t)n * C + c];
            dw[(size_t)k * C + c] = s;
        }
        double s = 0.0;
        for (int n = 0; n < N; n++)
            s += dy[(size_t)n * K + k];
        db[k] = s;
    }
}

void ref_softmax(const double *logits, double *probs, int N, int K) {
    for (int n = 0; n < N; n++) {
        const double *x = logits + (size_t)n * K;
        double mx = x[0], s = 0.0;
        for (int k = 1; k < K; k++)
            mx = fmax(mx, x[k]);
        for (int k = 0; k < K; k++)
            s += exp(x[k] - mx);
        for (int k = 0; k < K; k++)
            probs[(size_t)n * K + k] = exp(x[k] - mx) / s;
    }
}

double ref_xent_smooth(const double *logits, const int32_t *labels, int N, int K, double smoothing,
                       double *dlogits) {
    double on = 1.0 - smoothing, off = smoothing / (K - 1), total = 0.0;
    for (int n = 0; n < N; n++) {
        const double *x = logits + (size_t)n * K;
        double mx = x[0], s = 0.0;
        for (int k = 1; k < K; k++)
            mx = fmax(mx, x[k]);
        for (int k = 0; k < K; k++)
            s += exp(x[k] - mx);
        double lse = mx + log(s);
        for (int k = 0; k < K; k++) {
            double t = k == labels[n] ? on : off;
            double logp = x[k] - lse;
            total -= t * logp;
            if (dlogits) dlogits[(size_t)n * K + k] = (exp(logp) - t) / N;
        }
    }
    return total / N;
}

/* ---- optimizer ---- */

void ref_sgd(double *w, const double *g, double *v, size_t n, double lr, double momentum,
             double weight_decay) {
    for (size_t i = 0; i < n; i++) {
        double gi = g[i] + weight_decay * w[i];
        v[i] = momentum * v[i] + gi;
        w[i] -= lr * v[i];
    }
}
