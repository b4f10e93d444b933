/* The fp16 inference path (--precision fp16; model/forward.c): weights with BatchNorm folded in,
 * rounded once to half, activations stored as half between layers, arithmetic in float; the
 * stem's weights, every bias, the pooled features, the classifier and the softmax stay float.
 * half is used only as a storage type here (vload_half / vstore_half_rte, OpenCL 1.2 core), so
 * these kernels build and run on every device. The kernels shared with the float path take the
 * storage as a macro argument (cl/prelude.cl: SLOAD, SSTORE): the cpu depthwise and fused
 * depthwise + pointwise kernels (depthwise.cl), the generic depthwise kernel, the pool; the cpu
 * stem stores half through a flag (conv_stem.cl). This file has what the float path does not
 * need in this form: the fold into the fp16 layouts, the generic stem, the GEMMs that read and
 * write half, and the classifier on the float weights as they are stored.
 *
 * Every output is still one in-order sum in float, so a device gives the same bits run after
 * run; the half values differ from the float path's by the roundings listed above. */

/* BatchNorm folded into a conv weight with the arithmetic of bn_fold (bn.cl):
 * w' = w * gamma / sqrt(var + eps) in float, then stored where the fp16 kernels read it,
 * rounded once to half (out_half) or as float (the stem), and the bias
 * b = beta - mean * gamma / sqrt(var + eps) as float. w is [C, K] (or [K, C] when
 * channel_minor: the depthwise taps); the output layout: 0 as w, 1 transposed to B[k, c] =
 * w'[c, k] row-major [K, C] (the generic and gpu GEMMs), 2 that B in gemm.cl's packed
 * TN-column panels (packed_b_index; the cpu stem), 3 the same panels with the last one padded
 * to TN columns (gemm_tiled_h; the padding is left as it is: zeros). */
__kernel void bn_fold_h(__global const float *w, int w_off, __global const float *gamma,
                        int g_off, __global const float *beta, int b_off,
                        __global const float *mean, int m_off, __global const float *var,
                        int v_off, float eps, int C, int K, int channel_minor, int layout,
                        int out_half, __global float *w_out, int wo_off, __global float *b_out,
                        int bo_off) {
    int i = get_global_id(0);
    if (i >= C * K) return;
    int c = channel_minor ? i % C : i / K, k = channel_minor ? i / C : i % K;
    float scale = gamma[g_off + c] / sqrt(var[v_off + c] + eps);
    float folded = w[w_off + i] * scale;
    size_t panel = (size_t)(c / GEMM_TN) * K * GEMM_TN; /* layout 3 */
    size_t at = layout == 0   ? (size_t)i
                : layout == 1 ? (size_t)k * C + c
                : layout == 2 ? packed_b_index(k, c, K, C)
                              : panel + (size_t)k * GEMM_TN + c % GEMM_TN;
    if (out_half)
        vstore_half_rte(folded, wo_off + at, (__global half *)w_out);
    else
        w_out[wo_off + at] = folded;
    if (k == 0) b_out[bo_off + c] = beta[b_off + c] - mean[m_off + c] * scale;
}

/* The stem in any family (generic row) on the fp16 path: one work-item per output channel and
 * row (c, n * Ho + oh; neighbouring work-items: neighbouring channels), the 27 taps of each
 * output in the order k = ci * 9 + kh * 3 + kw of the im2col GEMM, padding taps as fma with
 * zero; x is the float image (NHWC), wt the folded float weight as B[27, Cout] (bn_fold_h
 * layout 1, or 2 when w_packed), then + bias, ReLU6, stored as half. */
__kernel void stem_conv3x3_h(__global const float *x, int x_off, __global const float *wt,
                             int w_off, int w_packed, __global const float *bias, int b_off,
                             __global half *y, int y_off, int N, int H, int W, int Cout, int Ho,
                             int Wo, int stride) {
    int c = get_global_id(0), nh = get_global_id(1);
    if (c >= Cout || nh >= N * Ho) return;
    int n = nh / Ho, oh = nh - n * Ho;
    float w[27];
    for (int k = 0; k < 27; k++)
        w[k] = wt[w_off + (w_packed ? packed_b_index(k, c, 27, Cout) : (size_t)k * Cout + c)];
    __global const float *img = x + x_off + (size_t)n * H * W * 3;
    float b = bias[b_off + c];
    for (int ow = 0; ow < Wo; ow++) {
        float acc = 0.0f;
        for (int ci = 0; ci < 3; ci++)
            for (int kh = 0; kh < 3; kh++)
                for (int kw = 0; kw < 3; kw++) {
                    int ih = oh * stride - 1 + kh, iw = ow * stride - 1 + kw;
                    bool inside = ih >= 0 && ih < H && iw >= 0 && iw < W;
                    float a = inside ? img[((size_t)ih * W + iw) * 3 + ci] : 0.0f;
                    acc = fma(a, w[ci * 9 + kh * 3 + kw], acc);
                }
        vstore_half_rte(clamp(acc + b, 0.0f, 6.0f), y_off + ((size_t)nh * Wo + ow) * Cout + c, y);
    }
}

/* C[M, N] = A[M, K] B[K, N] + bias, ReLU6 (the pointwise convolutions; relu6 0: no epilogue),
 * A and C half, B half row-major [K, N] (bn_fold_h layout 1): one work-item per output
 * (dimension 0 along N: neighbours read neighbouring values of B and write neighbouring values
 * of C), k in order. The generic row's GEMM on half storage (CLBlast's SGEMM reads floats). */
__kernel void gemm_rows_h(__global const half *A, int a_off, int lda, __global const half *B,
                          int b_off, int ldb, __global half *C, int c_off, int ldc,
                          __global const float *bias, int bias_off, int relu6, int M, int N,
                          int K) {
    int n = get_global_id(0), m = get_global_id(1);
    if (n >= N || m >= M) return;
    __global const half *a = A + a_off + (size_t)m * lda, *b = B + b_off + n;
    float acc = 0.0f;
    for (int k = 0; k < K; k++) acc = fma(vload_half(k, a), vload_half((size_t)k * ldb, b), acc);
    if (relu6) acc = clamp(acc + bias[bias_off + n], 0.0f, 6.0f);
    vstore_half_rte(acc, c_off + (size_t)m * ldc + n, C);
}

/* The cpu GEMM on half storage (row gemm.cpu_tiled): C[M, N] = A[M, K] B[K, N] + bias, ReLU6,
 * A and C half (row-major, strides lda and ldc), B half in TN-column panels [K][TN] one after
 * the other, the last one padded with zero columns to TN (bn_fold_h layout 3). gemm_tiled's
 * TM x TN register tile (cl/prelude.cl: FOR_ROWS, GEMM_KLOOP_H) over the whole of K: partial
 * sums cannot go through C between k blocks as gemm_tiled's do, since C holds halves.
 * Work-item (column tile, run of `tiles` row tiles), work-groups of one. Rows past M repeat
 * row M - 1 and columns past N compute with the zero padding; neither is stored. The bias
 * (relu6) is read as whole panels too: the fp16 path pads it with zeros to 32 values. */

/* Stores the first `count` (< MBN_CPU_VEC) values of v. */
static void store_half_part(VF v, int count, __global half *o) {
#ifdef MBN_CPU_HALF
    if (count >= MBN_CPU_HALF) {
        SSTORE(half, MBN_CPU_HALF)(v.lo, 0, o);
        v.lo = v.hi;
        o += MBN_CPU_HALF;
        count -= MBN_CPU_HALF;
    }
#endif
    float t[MBN_CPU_VEC];
    VSTORE(v, 0, t);
    for (int j = 0; j < count; j++) vstore_half_rte(t[j], j, o);
}

#define GEMM_ROW_H(i) (A + (size_t)min(m0 + (i), M - 1) * lda)
#define GEMM_STORE_H(i, _)                                                                         \
    if (m0 + i < M) {                                                                              \
        VF v0 = c##i##0, v1 = c##i##1;                                                             \
        if (relu6) {                                                                               \
            v0 = clamp(v0 + bias0, 0.0f, 6.0f);                                                    \
            v1 = clamp(v1 + bias1, 0.0f, 6.0f);                                                    \
        }                                                                                          \
        __global half *o = C + (size_t)(m0 + i) * ldc + n0;                                        \
        if (cols >= GEMM_TN) {                                                                     \
            SSTORE(half, MBN_CPU_VEC)(v0, 0, o);                                                   \
            SSTORE(half, MBN_CPU_VEC)(v1, 1, o);                                                   \
        } else if (cols >= MBN_CPU_VEC) {                                                          \
            SSTORE(half, MBN_CPU_VEC)(v0, 0, o);                                                   \
            store_half_part(v1, cols - MBN_CPU_VEC, o + MBN_CPU_VEC);                              \
        } else {                                                                                   \
            store_half_part(v0, cols, o);                                                          \
        }                                                                                          \
    }
__kernel void gemm_tiled_h(__global const half *A, int a_off, int lda, __global const half *B,
                           int b_off, __global half *C, int c_off, int ldc,
                           __global const float *bias, int bias_off, int relu6, int M, int N,
                           int K, int tiles) {
    int n0 = get_global_id(0) * GEMM_TN;
    int t0 = get_global_id(1) * tiles;
    int t1 = min(t0 + tiles, (M + GEMM_TM - 1) / GEMM_TM);
    if (n0 >= N || t0 >= t1) return;
    A += a_off;
    C += c_off;
    bias += bias_off;
    int cols = min(GEMM_TN, N - n0), ldb = GEMM_TN;
    __global const half *Bt = B + b_off + (size_t)(n0 / GEMM_TN) * K * GEMM_TN;
    /* the bias is padded to whole panels too (MbnNet.wf) */
    VF bias0 = relu6 ? VLOAD(0, bias + n0) : (VF)0.0f, bias1 = relu6 ? VLOAD(1, bias + n0) : bias0;
    for (int t = t0; t < t1; t++) {
        int m0 = t * GEMM_TM;
        FOR_ROWS(GEMM_DECL_ACC, 0)
        __global const half *Bp = Bt;
        GEMM_KLOOP_H(GEMM_ROW_H, K)
        FOR_ROWS(GEMM_STORE_H, 0)
    }
}
#undef GEMM_ROW_H
#undef GEMM_STORE_H

/* The classifier on its float weight as stored, w [K, C] (timm's layout; no transposed copy):
 * y[n, k] = x[n, :] . w[k, :] + b[k], x the float pooled features. One work-item per class,
 * over every row n (its weight row stays in cache): the dot product in MBN_CPU_VEC lanes (lane
 * j sums c = j, j + V, ... in order), the lanes added pairwise (halves of the vector), then
 * the C % V last products in order, then the bias. */
static float lanes_sum(VF v) {
    float t[MBN_CPU_VEC];
    VSTORE(v, 0, t);
    for (int w = MBN_CPU_VEC / 2; w >= 1; w /= 2) /* lane j + w into lane j: the halves */
        for (int j = 0; j < w; j++)
            t[j] += t[j + w];
    return t[0];
}

__kernel void classifier_rows(__global const float *x, int x_off, __global const float *w,
                              int w_off, __global const float *b, int b_off, __global float *y,
                              int y_off, int N, int C, int K) {
    int k = get_global_id(0);
    if (k >= K) return;
    __global const float *wr = w + w_off + (size_t)k * C;
    int full = C / MBN_CPU_VEC * MBN_CPU_VEC;
    for (int n = 0; n < N; n++) {
        __global const float *xr = x + x_off + (size_t)n * C;
        VF acc = 0.0f;
        for (int c = 0; c < full; c += MBN_CPU_VEC)
            acc = fma(VLOAD(0, xr + c), VLOAD(0, wr + c), acc);
        float s = lanes_sum(acc);
        for (int c = full; c < C; c++) s = fma(xr[c], wr[c], s);
        y[y_off + (size_t)n * K + k] = s + b[b_off + k];
    }
}
