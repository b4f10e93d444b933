/* Plain-C reference implementations, in double precision, of every device op in model/ops.h
 * (forward and backward), with exactly the layouts stated there:
 *   activations NHWC [N, H, W, C]; stem weight OIHW [Cout, 3, 3, 3] applied to im2col patches
 *   [M, 27] with k = ci*9 + kh*3 + kw; depthwise weight [9, C] tap-major (tap = kh*3 + kw);
 *   pointwise weight [Cout, Cin]; fc weight [K, C], bias [K].
 * Padding is symmetric 1 for every 3x3 conv; Ho = (H - 1) / stride + 1.
 * Every function overwrites its outputs (no accumulation). These are the oracles the device
 * ops are tested against; tests/test_ref_gradcheck.c validates their backward passes against
 * central finite differences of their forward passes. */
#ifndef MBN_TESTS_SUPPORT_REF_H
#define MBN_TESTS_SUPPORT_REF_H
#include <stddef.h>
#include <stdint.h>

static inline int ref_out(int in, int stride) {
    return (in - 1) / stride + 1;
}

/* ---- stem: 3x3 conv, 3 -> Cout ---- */
/* patches[M, 27], M = N*Ho*Wo, row m = (n*Ho + oh)*Wo + ow, zero outside the image. */
void ref_stem_im2col(const double *x, int N, int H, int W, int stride, double *patches);
/* z[N, Ho, Wo, Cout] = conv(x [N, H, W, 3], w [Cout, 3, 3, 3]) computed directly (not through
 * im2col), so it also checks the im2col layout. */
void ref_stem_fwd(const double *x, const double *w, double *z, int N, int H, int W, int Cout,
                  int stride);
/* dw[Cout, 27] = dL/dw for dz [N, Ho, Wo, Cout] (direct, not through im2col). */
void ref_stem_bwd_weight(const double *x, const double *dz, double *dw, int N, int H, int W,
                         int Cout, int stride);
/* dx[N, H, W, 3] (not a device op: the input image needs no gradient; used by gradcheck). */
void ref_stem_bwd_input(const double *dz, const double *w, double *dx, int N, int H, int W,
                        int Cout, int stride);

/* ---- depthwise 3x3 ---- */
/* y = dwconv(x, w); when bias != NULL, y = clamp(y + bias, 0, 6) (the folded inference form). */
void ref_dw_fwd(const double *x, const double *w, const double *bias, double *y, int N, int H,
                int W, int C, int stride);
void ref_dw_bwd_input(const double *dy, const double *w, double *dx, int N, int H, int W, int C,
                      int stride);
void ref_dw_bwd_weight(const double *x, const double *dy, double *dw, int N, int H, int W, int C,
                       int stride);

/* ---- pointwise 1x1: y[M, Cout] = x[M, Cin] w[Cout, Cin]^T ---- */
void ref_pw_fwd(const double *x, const double *w, double *y, size_t M, int Cin, int Cout);
void ref_pw_bwd_input(const double *dy, const double *w, double *dx, size_t M, int Cin, int Cout);
void ref_pw_bwd_weight(const double *x, const double *dy, double *dw, size_t M, int Cin, int Cout);

/* ---- BatchNorm (training) + ReLU6 ---- */
/* Batch mean and biased variance over the M rows of z[M, C]; y = clamp(gamma * (z - mean) *
 * invstd + beta, 0, 6), invstd = 1/sqrt(var + eps); running = (1 - momentum) * running +
 * momentum * batch with the unbiased variance (M/(M-1) * var) for running_var. running_mean,
 * running_var may be NULL. save_mean/save_invstd (C each) may be NULL. */
void ref_bn_relu6_train(const double *z, const double *gamma, const double *beta,
                        double *running_mean, double *running_var, double momentum, double eps,
                        size_t M, int C, double *y, double *save_mean, double *save_invstd);
/* Backward of y = relu6(bn_train(z)) given the batch mean and invstd of z: the gradient passes
 * only where 0 < gamma * xhat + beta < 6 (strict, PyTorch's hardtanh_backward), then through
 * the batch statistics:
 *   g = dy * [0 < t < 6], dbeta = sum g, dgamma = sum g * xhat,
 *   dz = gamma * invstd * (g - dbeta / M - xhat * dgamma / M). */
void ref_bn_relu6_bwd(const double *dy, const double *z, const double *gamma, const double *beta,
                      const double *mean, const double *invstd, size_t M, int C, double *dz,
                      double *dgamma, double *dbeta);
/* Inference fold: s = gamma / sqrt(var + eps); w_out = w * s (per output channel c);
 * b_out[c] = beta - mean * s. w is [C, K] (channel slowest) or, with channel_minor, [K, C]. */
void ref_bn_fold(const double *w, const double *gamma, const double *beta, const double *mean,
                 const double *var, double eps, int C, int K, int channel_minor, double *w_out,
                 double *b_out);
/* Inference BN + ReLU6 with running statistics (for whole-net references). */
void ref_bn_relu6_eval(const double *z, const double *gamma, const double *beta, const double *mean,
                       const double *var, double eps, size_t M, int C, double *y);
/* y[M, C] = clamp(y + b, 0, 6) in place */
void ref_bias_relu6(double *y, const double *b, size_t M, int C);

/* ---- head ---- */
void ref_avgpool_fwd(const double *x, double *y, int N, int HW, int C);
void ref_avgpool_bwd(const double *dy, double *dx, int N, int HW, int C);
/* y[N, K] = x[N, C] w[K, C]^T + b */
void ref_fc_fwd(const double *x, const double *w, const double *b, double *y, int N, int C, int K);
/* dx = dy w (dx may be NULL); dw = dy^T x; db = column sums of dy */
void ref_fc_bwd(const double *x, const double *w, const double *dy, double *dx, double *dw,
                double *db, int N, int C, int K);
void ref_softmax(const double *logits, double *probs, int N, int K);
/* MindSpore CrossEntropySmooth: t = 1 - e on the label, e/(K-1) elsewhere; returns the batch
 * mean of -sum t * log_softmax(x) and writes dlogits = (softmax - t) / N (when not NULL). */
double ref_xent_smooth(const double *logits, const int32_t *labels, int N, int K, double smoothing,
                       double *dlogits);

/* ---- optimizer ---- */
/* g' = g + wd * w; v = momentum * v + g'; w -= lr * v (in place on w and v) */
void ref_sgd(double *w, const double *g, double *v, size_t n, double lr, double momentum,
             double weight_decay);

#endif
