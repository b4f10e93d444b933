/* Device operations: one function per kernel family, each enqueuing OpenCL kernels or CLBlast
 * GEMMs on the device's in-order queue (nothing waits). Used by the forward and backward
 * passes and tested op by op against plain-C references (tests/test_ops_*.c).
 *
 * Layouts (all float32, offsets in floats):
 *   activations  NHWC: [N, H, W, C], so a pointwise conv is one GEMM [N*H*W x Cin] x [Cin x Cout]
 *   stem weight  [Cout, 3, 3, 3] OIHW (timm), applied as im2col patches [M, 27] with
 *                k = ci*9 + kh*3 + kw
 *   dw weight    [9, C] tap-major (tap = kh*3 + kw): adjacent work-items read adjacent floats;
 *                timm's [C, 1, 3, 3] is converted on import/export
 *   pw weight    [Cout, Cin] (timm OIHW with 1x1)
 *   fc weight    [K, Cin], bias [K]
 * Padding is symmetric 1 for every 3x3 conv; Ho = (H - 1) / stride + 1.
 *
 * Conventions: `scratch` is a buffer of at least the op family's mbn_ops_*_scratch() floats,
 * offset 0 (ops check; the network allocates their maximum, mbn_net_scratch_floats);
 * BN's save_mean and save_invstd share one offset; SGD's w, g and v share one offset.
 *
 * Kernel choice: each op runs the kernel variant the device resolved for it when it was opened
 * (host/variants.h), or the op's generic variant for shapes the chosen one does not handle.
 *
 * Determinism: no atomics; every reduction runs in a fixed order that depends only on the
 * shapes and the variant's parameters (two-stage: fixed row chunks, then the chunks summed in
 * order): the same device gives the same bits run after run. */
#ifndef MBN_MODEL_OPS_H
#define MBN_MODEL_OPS_H
#include <CL/cl.h>
#include <stdbool.h>
#include <stddef.h>

#include "host/variants.h"
#include "model/arch.h" /* mbn_conv_out */
#include "model/bn_stats.h"

struct MbnDevice;

typedef struct {
    cl_mem mem; /* NULL for "none" where an op allows it */
    size_t off; /* in floats (or ints for label buffers; halves for half buffers) */
    bool half;  /* holds half values (the fp16 inference path), not floats */
} MbnBuf;

#define MBN_BUF(m, o) ((MbnBuf){(m), (size_t)(o), false})
#define MBN_NOBUF ((MbnBuf){NULL, 0, false})
/* A buffer of half values (OpenCL `half`, IEEE binary16), offset in halves. */
#define MBN_HBUF(m, o) ((MbnBuf){(m), (size_t)(o), true})

/* Partial sums per channel (or per output) a reduction may keep: the cap on every variant's
 * chunk count (host/variants.c), so the scratch bound below holds whatever a tuner picks. */
#define MBN_OPS_MAX_PARTIALS 256

/* Scratch floats each family's ops need for M rows of C channels (or outputs per row) at most,
 * on any device and for any kernel variant: the one place each op's scratch layout is sized.
 * The reductions' partials are capped (MBN_OPS_MAX_PARTIALS), so M does not matter. The loss
 * needs mbn_ops_loss_scratch(N) floats (one per image) instead. */
size_t mbn_ops_dw_scratch(size_t M, int C);
size_t mbn_ops_bn_scratch(size_t M, int C);
size_t mbn_ops_gemm_scratch(size_t M, int C);
size_t mbn_ops_head_scratch(size_t M, int C);
size_t mbn_ops_loss_scratch(int N);
/* Number of row chunks the two-stage reductions use for M rows with the generic rows' default
 * chunking (test labels). */
int mbn_ops_chunks(size_t M);

/* ---- stem: 3x3 conv, stride s, 3 -> Cout ---- */
int mbn_op_stem_im2col(struct MbnDevice *d, MbnBuf x, int N, int H, int W, int stride,
                       MbnBuf patches);
/* y[M, Cout] = the stem conv of x with wt (the transposed weight [27, Cout] of
 * mbn_op_transpose) [+ bias, then clamp to [0, 6] when bias.mem is set], through the device's
 * stem_fwd variant: directly from x, or im2col into `patches` (M x 27 floats, unused by the
 * direct row) and mbn_op_pw_fwd_t. */
int mbn_op_stem_fwd(struct MbnDevice *d, MbnBuf x, MbnBuf wt, MbnBuf bias, MbnBuf y, int N, int H,
                    int W, int stride, int Cout, MbnBuf patches);
/* dw[Cout, 27] = dz[M, Cout]^T x patches[M, 27] */
int mbn_op_stem_bwd_weight(struct MbnDevice *d, MbnBuf patches, MbnBuf dz, MbnBuf dw, size_t M,
                           int Cout, MbnBuf scratch);

/* ---- depthwise 3x3, stride 1 or 2 ---- */
/* y = dwconv(x, w) [+ bias, then clamp to [0, 6] when bias.mem is set] */
int mbn_op_dw_fwd(struct MbnDevice *d, MbnBuf x, MbnBuf w, MbnBuf bias, MbnBuf y, int N, int H,
                  int W, int C, int stride);
/* Inference: y = pointwise(wt, pw_bias) of y_dw = depthwise(x, dw_w, dw_bias), both with their
 * folded bias and ReLU6, through the device's dwpw_fwd variant: one kernel that never writes
 * y_dw (when mbn_op_dwpw_fused says so; y_dw may then be MBN_NOBUF), or mbn_op_dw_fwd into y_dw
 * and mbn_op_pw_fwd_t. wt is the pointwise weight transposed by mbn_op_transpose, Cout its
 * output channels. y must not overlap x, nor y_dw either of them. */
bool mbn_op_dwpw_fused(struct MbnDevice *d, int Ho, int Wo, int C, int Cout);
int mbn_op_dwpw_fwd(struct MbnDevice *d, MbnBuf x, MbnBuf dw_w, MbnBuf dw_bias, MbnBuf wt,
                    MbnBuf pw_bias, MbnBuf y_dw, MbnBuf y, int N, int H, int W, int C, int stride,
                    int Cout);
int mbn_op_dw_bwd_input(struct MbnDevice *d, MbnBuf dy, MbnBuf w, MbnBuf dx, int N, int H, int W,
                        int C, int stride);
int mbn_op_dw_bwd_weight(struct MbnDevice *d, MbnBuf x, MbnBuf dy, MbnBuf dw, int N, int H, int W,
                         int C, int stride, MbnBuf scratch);

/* ---- pointwise 1x1 as one GEMM over the batch ---- */
int mbn_op_pw_bwd_input(struct MbnDevice *d, MbnBuf dy, MbnBuf w, MbnBuf dx, size_t M, int Cin,
                        int Cout);
/* The same given `work` (Cout x Cin floats the op may overwrite): on CPUs w is first packed
 * there in the GEMM's 32-column panels. */
int mbn_op_pw_bwd_input_ws(struct MbnDevice *d, MbnBuf dy, MbnBuf w, MbnBuf dx, size_t M, int Cin,
                           int Cout, MbnBuf work);
/* dw[Cout, Cin] = dy[M, Cout]^T x[M, Cin], with the sum over the M rows split into chunks
 * (fixed by the shapes and the variant) whose partials go to `scratch` and are added in order:
 * the weight-gradient GEMM has a small output and a huge K, so splitting K is what gives a
 * device parallel work (and CPUs work that stays in cache). */
int mbn_op_pw_bwd_weight_split(struct MbnDevice *d, MbnBuf x, MbnBuf dy, MbnBuf dw, size_t M,
                               int Cin, int Cout, MbnBuf scratch);
/* The same dw, given `work`: M x Cout floats the op may overwrite (CPUs transpose dy there so
 * the GEMM streams contiguous rows); NOBUF or unsuitable shapes fall back to the above. */
int mbn_op_pw_bwd_weight_ws(struct MbnDevice *d, MbnBuf x, MbnBuf dy, MbnBuf dw, size_t M, int Cin,
                            int Cout, MbnBuf scratch, MbnBuf work);

/* The forward passes use pre-transposed weights: wt[Cin, Cout] = transpose(w[Cout, Cin]) (also
 * for the stem, Cin = 27), made once per weight change by mbn_op_transpose, in the layout the
 * device's gemm variant reads: row-major [Cin, Cout] (CLBlast), or on CPUs the same split into
 * 32-column panels stored one after the other ([Cout/32][Cin][32], then the last Cout % 32
 * columns as [Cin][Cout % 32]), so the GEMM streams contiguous rows (cl/gemm.cl, b_tile). Only
 * mbn_op_pw_fwd_t and mbn_op_fc_fwd_t read it. */
int mbn_op_transpose(struct MbnDevice *d, MbnBuf src, MbnBuf dst, int rows, int cols);
/* y[M, Cout] = x[M, Cin] wt[Cin, Cout], then y = clamp(y + bias, 0, 6) when bias.mem is set
 * (BN folded, inference). Same values as mbn_op_pw_fwd (+ mbn_op_bias_relu6) up to float
 * rounding; deterministic. */
int mbn_op_pw_fwd_t(struct MbnDevice *d, MbnBuf x, MbnBuf wt, MbnBuf bias, MbnBuf y, size_t M,
                    int Cin, int Cout);

/* ---- BatchNorm + ReLU6 ---- */
/* Training mode: batch mean and biased variance over the M rows of z[M, C]; running stats
 * updated as running = (1 - momentum) * running + momentum * batch (unbiased variance, as
 * PyTorch); y = clamp(gamma * (z - mean) * invstd + beta, 0, 6); saves mean and invstd
 * (C floats each) for backward. momentum 0.1 matches MindSpore's 0.9. */
int mbn_op_bn_relu6_train(struct MbnDevice *d, MbnBuf z, MbnBuf gamma, MbnBuf beta,
                          MbnBuf running_mean, MbnBuf running_var, float momentum, float eps,
                          size_t M, int C, MbnBuf y, MbnBuf save_mean, MbnBuf save_invstd,
                          MbnBuf scratch);
/* Backward of y = relu6(bn(z)) in training mode, given dy: writes dz, dgamma, dbeta. The
 * ReLU6 gradient passes where 0 < bn(z) < 6 (PyTorch's hardtanh_backward). */
int mbn_op_bn_relu6_bwd(struct MbnDevice *d, MbnBuf dy, MbnBuf z, MbnBuf gamma, MbnBuf beta,
                        MbnBuf save_mean, MbnBuf save_invstd, size_t M, int C, MbnBuf dz,
                        MbnBuf dgamma, MbnBuf dbeta, MbnBuf scratch);
/* Inference: folds BN (running stats) into the conv weight and a bias:
 * w' = w * s, b = beta - mean * s with s = gamma / sqrt(var + eps). `channel_minor` says the
 * channel is the fastest-varying index of w (dw [9, C]) rather than the slowest ([Cout, K]). */
int mbn_op_bn_fold(struct MbnDevice *d, MbnBuf w, MbnBuf gamma, MbnBuf beta, MbnBuf mean,
                   MbnBuf var, float eps, int C, int K, bool channel_minor, MbnBuf w_out,
                   MbnBuf b_out);
/* y[M, C] = clamp(y + b, 0, 6) in place */
int mbn_op_bias_relu6(struct MbnDevice *d, MbnBuf y, MbnBuf b, size_t M, int C);

/* ---- training forward with BatchNorm fused into its neighbours (gpu kernels) ----
 * When mbn_ops_bn_fused() says so, a training forward computes each layer's BN statistics in
 * the epilogue of the kernel that writes the conv output z (per output tile: count, mean and
 * squared deviations, into a statistics buffer), merges them (mbn_op_bn_stats_finalize), and
 * leaves BN + ReLU6 to the next layer, which applies it as it loads z and stores the activation
 * y for backward. Per activation that is one write of z, one read of z and one write of y,
 * against a write of z, three reads of z (sum, squared deviations, apply), a write of y and a
 * read of y in the separate-pass path. */
typedef struct {
    MbnBuf gamma, beta;
    MbnBuf mean, invstd; /* the batch statistics (mbn_op_bn_stats_finalize); one offset */
    MbnBuf y;            /* where the consumer stores clamp(bn(z), 0, 6) */
} MbnBnApply;

/* Whether the device runs the fused path (bn_fwd, dw_fwd and gemm on their gpu rows, FUSE=1). */
bool mbn_ops_bn_fused(struct MbnDevice *d);
/* Statistics rows and buffer sizes: model/bn_stats.h (mbn_ops_bn_stats_rows, _floats). */
/* z[M, Cout] = act(x)[M, Cin] wt[Cin, Cout] with act = the pending BN + ReLU6 `in` (NULL: x is
 * already the activation), statistics of z to `stats` (mbn_ops_bn_stats_rows(MBN_OP_GEMM)
 * rows). */
int mbn_op_pw_fwd_train(struct MbnDevice *d, MbnBuf x, const MbnBnApply *in, MbnBuf wt, MbnBuf z,
                        size_t M, int Cin, int Cout, MbnBuf stats);
/* z = dwconv(act(x), w) likewise (N images of H x W x C), statistics of z to `stats`. */
int mbn_op_dw_fwd_train(struct MbnDevice *d, MbnBuf x, const MbnBnApply *in, MbnBuf w, MbnBuf z,
                        int N, int H, int W, int C, int stride, MbnBuf stats);
/* Merges `rows` rows of statistics over M outputs into the batch mean and invstd and updates the
 * running statistics, as mbn_op_bn_relu6_train does. */
int mbn_op_bn_stats_finalize(struct MbnDevice *d, MbnBuf stats, size_t rows, size_t M, int C,
                             MbnBuf running_mean, MbnBuf running_var, float momentum, float eps,
                             MbnBuf save_mean, MbnBuf save_invstd);
/* y = clamp(bn(z), 0, 6) with given statistics: the last layer before the pool. */
int mbn_op_bn_relu6_apply(struct MbnDevice *d, MbnBuf z, const MbnBnApply *bn, size_t M, int C);

/* ---- head ---- */
/* y[N, C] = mean over HW of x[N, HW, C] */
int mbn_op_avgpool_fwd(struct MbnDevice *d, MbnBuf x, MbnBuf y, int N, int HW, int C);
int mbn_op_avgpool_bwd(struct MbnDevice *d, MbnBuf dy, MbnBuf dx, int N, int HW, int C);
/* y[N, K] = x[N, C] wt[C, K] + b, wt the transposed weight [K, C] (see mbn_op_transpose) */
int mbn_op_fc_fwd_t(struct MbnDevice *d, MbnBuf x, MbnBuf wt, MbnBuf b, MbnBuf y, int N, int C,
                    int K);
/* dx = dy w; dw = dy^T x; db = column sums of dy (in row order) */
int mbn_op_fc_bwd(struct MbnDevice *d, MbnBuf x, MbnBuf w, MbnBuf dy, MbnBuf dx, MbnBuf dw,
                  MbnBuf db, int N, int C, int K, MbnBuf scratch);
int mbn_op_softmax(struct MbnDevice *d, MbnBuf logits, MbnBuf probs, int N, int K);
/* MindSpore CrossEntropySmooth: target 1 - e for the label, e / (K - 1) elsewhere; loss is the
 * batch mean of -sum(target * log_softmax). Writes dlogits = (softmax - target) / N and the
 * mean loss (1 float) to `loss`. `labels` holds N int32. */
int mbn_op_xent_smooth(struct MbnDevice *d, MbnBuf logits, MbnBuf labels, int N, int K,
                       float smoothing, MbnBuf dlogits, MbnBuf loss, MbnBuf scratch);

/* ---- optimizer ---- */
/* g' = g + wd * w; v = momentum * v + g'; w -= lr * v (MindSpore Momentum, PyTorch SGD) */
int mbn_op_sgd(struct MbnDevice *d, MbnBuf w, MbnBuf g, MbnBuf v, size_t n, float lr,
               float momentum, float weight_decay);
int mbn_op_fill_zero(struct MbnDevice *d, MbnBuf x, size_t n);

/* ---- the fp16 inference path (--precision fp16, model/forward.c) ----
 * Activations and the depthwise and pointwise weights are stored as half (MBN_HBUF buffers),
 * computed in float: mbn_op_dw_fwd, mbn_op_dwpw_fwd and mbn_op_pw_fwd_t run their half kernels
 * when x, the weights and y are half buffers (all or none); mbn_op_stem_fwd when y is (the
 * image, the stem's weight and every bias stay float); mbn_op_avgpool_fwd when x is (the pooled
 * features stay float, and so do the classifier and the softmax). On the gpu rows with
 * HALF_ARITH (devices with cl_khr_fp16) the products and the short sums are half
 * (cl/half_gpu.cl). */
typedef enum {
    MBN_FOLD_AS_STORED, /* w' in w's own layout (the depthwise taps [9, C]) */
    MBN_FOLD_GEMM_B,    /* w' as the forward GEMM's B operand, as mbn_op_transpose writes it */
} MbnFoldLayout;
/* mbn_op_bn_fold into the fp16 path's weights: w' with the same float arithmetic, written in
 * `layout` rounded once to half (w_out a half buffer) or as float (the stem), and the bias b. */
int mbn_op_bn_fold_to(struct MbnDevice *d, MbnBuf w, MbnBuf gamma, MbnBuf beta, MbnBuf mean,
                      MbnBuf var, float eps, int C, int K, bool channel_minor, MbnFoldLayout layout,
                      MbnBuf w_out, MbnBuf b_out);
/* The halves mbn_op_bn_fold_to writes for a GEMM operand B[K, N] on this device (the cpu gemm
 * row pads the last panel of columns with zeros; w_out must hold them, zeroed). The biases of
 * the fp16 path are read in whole panels of up to 32 values: pad them with zeros to 32. */
size_t mbn_ops_gemm_b_halves(struct MbnDevice *d, int K, int N);
#define MBN_OPS_BIAS_PAD 32
/* Whether mbn_op_dwpw_fwd runs fused on half buffers (its local memory holds halves). */
bool mbn_op_dwpw_fused_h(struct MbnDevice *d, int Ho, int Wo, int C, int Cout);
/* y[N, K] = x[N, C] w[K, C]^T + b, all float, w as stored (timm's [K, C]: no transposed copy). */
int mbn_op_classifier(struct MbnDevice *d, MbnBuf x, MbnBuf w, MbnBuf b, MbnBuf y, int N, int C,
                      int K);

/* ---- kept for the op tests only ----
 * The network runs the transposed-weight forms (mbn_op_pw_fwd_t, mbn_op_fc_fwd_t, the stem
 * through mbn_op_pw_fwd_t) and the split weight gradients. These are the plain one-GEMM forms
 * in the stored weight layouts; tests/test_ops_*.c still call them. They go once those tests
 * call the network's forms (the test files are being reworked on another branch; changing
 * their calls here would collide with that). */
/* z[M, Cout] = patches[M, 27] x w[Cout, 27]^T (CLBlast) */
int mbn_op_stem_gemm(struct MbnDevice *d, MbnBuf patches, MbnBuf w, MbnBuf z, size_t M, int Cout);
/* y[M, Cout] = x[M, Cin] w[Cout, Cin]^T (CLBlast) */
int mbn_op_pw_fwd(struct MbnDevice *d, MbnBuf x, MbnBuf w, MbnBuf y, size_t M, int Cin, int Cout);
/* y[N, K] = x[N, C] w[K, C]^T + b (CLBlast and a bias pass) */
int mbn_op_fc_fwd(struct MbnDevice *d, MbnBuf x, MbnBuf w, MbnBuf b, MbnBuf y, int N, int C, int K);
/* dw = dy^T x as one GEMM over all M rows (the device's gemm variant) */
int mbn_op_pw_bwd_weight(struct MbnDevice *d, MbnBuf x, MbnBuf dy, MbnBuf dw, size_t M, int Cin,
                         int Cout);

#endif
