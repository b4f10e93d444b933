/* Depthwise 3x3 convolution on NHWC activations, padding 1, stride 1 or 2.
 * Work-items run along channels (dimension 0), so neighbours read neighbouring floats of both
 * the activations and the tap-major [9, C] weights: coalesced on GPUs, vectorised by PoCL. */

/* Forward, one work-item per output. S: the storage of x, w and y (float, or half for the fp16
 * inference path: cl/prelude.cl), computed in float either way. */
#define DW_FWD_GENERIC(NAME, S)                                                                    \
    __kernel void NAME(__global const S *x, int x_off, __global const S *w, int w_off,             \
                       __global const float *bias, int b_off, int bias_relu6, __global S *y,       \
                       int y_off, int N, int H, int W, int C, int Ho, int Wo, int stride) {        \
        int c = get_global_id(0);                                                                  \
        int ow = get_global_id(1);                                                                 \
        int nh = get_global_id(2);                                                                 \
        if (c >= C || ow >= Wo || nh >= N * Ho) return;                                            \
        int n = nh / Ho, oh = nh - n * Ho;                                                         \
        x += x_off;                                                                                \
        w += w_off;                                                                                \
        float acc = 0.0f;                                                                          \
        for (int kh = 0; kh < 3; kh++) {                                                           \
            int ih = oh * stride - 1 + kh;                                                         \
            if (ih < 0 || ih >= H) continue;                                                       \
            for (int kw = 0; kw < 3; kw++) {                                                       \
                int iw = ow * stride - 1 + kw;                                                     \
                if (iw < 0 || iw >= W) continue;                                                   \
                acc = fma(SLOAD1(S, (((size_t)n * H + ih) * W + iw) * C + c, x),                   \
                          SLOAD1(S, (kh * 3 + kw) * C + c, w), acc);                               \
            }                                                                                      \
        }                                                                                          \
        if (bias_relu6) acc = clamp(acc + bias[b_off + c], 0.0f, 6.0f);                            \
        SSTORE1(S, acc, y_off + ((size_t)nh * Wo + ow) * C + c, y);                                \
    }
DW_FWD_GENERIC(dw_conv3x3_fwd, float)
DW_FWD_GENERIC(dw_conv3x3_fwd_h, half)
#undef DW_FWD_GENERIC

/* dx[n, ih, iw, c] = sum over the outputs that read (ih, iw): a gather, so no atomics. */
__kernel void dw_conv3x3_bwd_input(__global const float *dy, int dy_off, __global const float *w,
                                   int w_off, __global float *dx, int dx_off, int N, int H, int W,
                                   int C, int Ho, int Wo, int stride) {
    int c = get_global_id(0);
    int iw = get_global_id(1);
    int nh = get_global_id(2);
    if (c >= C || iw >= W || nh >= N * H) return;
    int n = nh / H, ih = nh - n * H;
    dy += dy_off;
    w += w_off;
    float acc = 0.0f;
    for (int kh = 0; kh < 3; kh++) {
        int t = ih + 1 - kh; /* = oh * stride */
        if (t < 0 || t % stride) continue;
        int oh = t / stride;
        if (oh >= Ho) continue;
        for (int kw = 0; kw < 3; kw++) {
            int u = iw + 1 - kw;
            if (u < 0 || u % stride) continue;
            int ow = u / stride;
            if (ow >= Wo) continue;
            acc = fma(dy[(((size_t)n * Ho + oh) * Wo + ow) * C + c], w[(kh * 3 + kw) * C + c], acc);
        }
    }
    dx[dx_off + ((size_t)nh * W + iw) * C + c] = acc;
}

/* Weight gradient, stage 1: chunk p of the output rows (n*Ho + oh) gives
 * partial[p, tap, c] = sum over its rows and all ow of dy * x. Stage 2 (channel_reduce_rows)
 * adds the chunks in order. */
__kernel void dw_conv3x3_bwd_weight_partial(__global const float *x, int x_off,
                                            __global const float *dy, int dy_off,
                                            __global float *partial, int N, int H, int W, int C,
                                            int Ho, int Wo, int stride, int rows_per_chunk) {
    int c = get_global_id(0);
    int p = get_global_id(1);
    if (c >= C) return;
    x += x_off;
    dy += dy_off;
    float acc[9];
    for (int t = 0; t < 9; t++) acc[t] = 0.0f;
    int r0 = p * rows_per_chunk, r1 = min(r0 + rows_per_chunk, N * Ho);
    for (int r = r0; r < r1; r++) {
        int n = r / Ho, oh = r - n * Ho;
        for (int ow = 0; ow < Wo; ow++) {
            float g = dy[((size_t)r * Wo + ow) * C + c];
            for (int kh = 0; kh < 3; kh++) {
                int ih = oh * stride - 1 + kh;
                if (ih < 0 || ih >= H) continue;
                for (int kw = 0; kw < 3; kw++) {
                    int iw = ow * stride - 1 + kw;
                    if (iw < 0 || iw >= W) continue;
                    acc[kh * 3 + kw] = fma(g, x[(((size_t)n * H + ih) * W + iw) * C + c],
                                           acc[kh * 3 + kw]);
                }
            }
        }
    }
    for (int t = 0; t < 9; t++) partial[((size_t)p * 9 + t) * C + c] = acc[t];
}

/* ---- cpu family: a work-item owns a row of outputs for W adjacent channels as one SIMD vector
 * (W = MBN_CPU_VEC, the device's vector width, or MBN_CPU_HALF for channel counts it does not
 * divide; cl/prelude.cl). The per-pixel kernels above leave PoCL with millions of tiny
 * work-items whose scheduling and scalar index arithmetic dominate; these stream memory. Each
 * sums the same taps in the same order as the per-pixel kernels: the same bits.
 *
 * Taps that fall in the padding are handled outside the inner loops: a missing input row gets
 * zero weights (fma(x, 0, acc) leaves acc unchanged: the same bits as skipping the tap) and
 * reads a valid row instead; only the first and last output columns check their columns.
 *
 * Forward: interior columns go 4 output pixels at a time: four independent sums (one chain of
 * 9 dependent FMAs per pixel left the FMA units waiting on its latency: about 25 cycles per
 * output vector), and the input vectors of one row loaded once for the 4 pixels (6 loads at
 * stride 1, 9 at stride 2, instead of 12). Each pixel still adds its taps in the same order.
 * dw_row_<width>_<space>: the output row of one channel block, into global memory (the
 * depthwise kernels) or local memory (dw_pw_fwd_vec below); `out` points at channel c of
 * pixel 0. Written out by hand: PoCL's compiler left loops over arrays of vectors on the
 * stack. */
#define DW_TAPS(a, xa, xb, xc, kh)                                                                 \
    a = fma(xa, w0[kh], a);                                                                        \
    a = fma(xb, w1[kh], a);                                                                        \
    a = fma(xc, w2[kh], a);
#define DW_QUAD_S1(V, kh, S)                                                                       \
    {                                                                                              \
        __global const S *p = row[kh] + (size_t)iw * C;                                            \
        VT(V) x0 = SLOAD(S, V)(0, p), x1 = SLOAD(S, V)(0, p + C), x2 = SLOAD(S, V)(0, p + 2 * C);  \
        VT(V) x3 = SLOAD(S, V)(0, p + 3 * C), x4 = SLOAD(S, V)(0, p + 4 * C);                      \
        VT(V) x5 = SLOAD(S, V)(0, p + 5 * C);                                                      \
        DW_TAPS(acc0, x0, x1, x2, kh)                                                              \
        DW_TAPS(acc1, x1, x2, x3, kh)                                                              \
        DW_TAPS(acc2, x2, x3, x4, kh)                                                              \
        DW_TAPS(acc3, x3, x4, x5, kh)                                                              \
    }
#define DW_QUAD_S2(V, kh, S)                                                                       \
    {                                                                                              \
        __global const S *p = row[kh] + (size_t)iw * C;                                            \
        VT(V) x0 = SLOAD(S, V)(0, p), x1 = SLOAD(S, V)(0, p + C), x2 = SLOAD(S, V)(0, p + 2 * C);  \
        VT(V) x3 = SLOAD(S, V)(0, p + 3 * C), x4 = SLOAD(S, V)(0, p + 4 * C);                      \
        VT(V) x5 = SLOAD(S, V)(0, p + 5 * C), x6 = SLOAD(S, V)(0, p + 6 * C);                      \
        VT(V) x7 = SLOAD(S, V)(0, p + 7 * C), x8 = SLOAD(S, V)(0, p + 8 * C);                      \
        DW_TAPS(acc0, x0, x1, x2, kh)                                                              \
        DW_TAPS(acc1, x2, x3, x4, kh)                                                              \
        DW_TAPS(acc2, x4, x5, x6, kh)                                                              \
        DW_TAPS(acc3, x6, x7, x8, kh)                                                              \
    }

#define DW_ROW(NAME, V, SPACE, S)                                                                  \
    static void NAME(__global const S *x, __global const S *w, __global const float *bias,         \
                     int bias_relu6, SPACE S *out, int n, int oh,                                  \
                     int H, int W, int C, int Wo, int stride, int c) {                            \
        VT(V) w0[3], w1[3], w2[3];                                                                 \
        __global const S *row[3];                                                                  \
        for (int kh = 0; kh < 3; kh++) {                                                           \
            int ih = oh * stride - 1 + kh;                                                         \
            bool valid = ih >= 0 && ih < H;                                                        \
            VT(V) m = valid ? (VT(V))1.0f : (VT(V))0.0f;                                           \
            row[kh] = x + ((size_t)n * H + (valid ? ih : oh * stride)) * W * C + c;               \
            w0[kh] = SLOAD(S, V)(0, w + (kh * 3 + 0) * C + c) * m;                                 \
            w1[kh] = SLOAD(S, V)(0, w + (kh * 3 + 1) * C + c) * m;                                 \
            w2[kh] = SLOAD(S, V)(0, w + (kh * 3 + 2) * C + c) * m;                                 \
        }                                                                                          \
        VT(V) b = bias_relu6 ? VL(V)(0, bias + c) : (VT(V))0.0f;                                   \
        /* Interior columns: iw = ow * stride - 1 + kw inside [0, W) for all three kw. */          \
        int first = 1, last = (W - 2) / stride; /* largest ow with ow * stride + 1 <= W - 1 */    \
        if (last > Wo - 1) last = Wo - 1;                                                          \
        for (int ow = 0; ow < Wo;) {                                                               \
            int iw = ow * stride - 1;                                                              \
            if (ow >= first && ow + 3 <= last) {                                                   \
                VT(V) acc0 = 0.0f, acc1 = 0.0f, acc2 = 0.0f, acc3 = 0.0f;                          \
                if (stride == 2) {                                                                 \
                    DW_QUAD_S2(V, 0, S) DW_QUAD_S2(V, 1, S) DW_QUAD_S2(V, 2, S)                    \
                } else {                                                                           \
                    DW_QUAD_S1(V, 0, S) DW_QUAD_S1(V, 1, S) DW_QUAD_S1(V, 2, S)                    \
                }                                                                                  \
                if (bias_relu6) {                                                                  \
                    acc0 = clamp(acc0 + b, 0.0f, 6.0f);                                            \
                    acc1 = clamp(acc1 + b, 0.0f, 6.0f);                                            \
                    acc2 = clamp(acc2 + b, 0.0f, 6.0f);                                            \
                    acc3 = clamp(acc3 + b, 0.0f, 6.0f);                                            \
                }                                                                                  \
                SSTORE(S, V)(acc0, 0, out + (size_t)ow * C);                                       \
                SSTORE(S, V)(acc1, 0, out + (size_t)(ow + 1) * C);                                 \
                SSTORE(S, V)(acc2, 0, out + (size_t)(ow + 2) * C);                                 \
                SSTORE(S, V)(acc3, 0, out + (size_t)(ow + 3) * C);                                 \
                ow += 4;                                                                           \
                continue;                                                                          \
            }                                                                                      \
            VT(V) acc = 0.0f;                                                                      \
            if (ow >= first && ow <= last) {                                                       \
                for (int kh = 0; kh < 3; kh++) {                                                   \
                    __global const S *p = row[kh] + (size_t)iw * C;                                \
                    acc = fma(SLOAD(S, V)(0, p), w0[kh], acc);                                     \
                    acc = fma(SLOAD(S, V)(0, p + C), w1[kh], acc);                                 \
                    acc = fma(SLOAD(S, V)(0, p + 2 * C), w2[kh], acc);                             \
                }                                                                                  \
            } else {                                                                               \
                for (int kh = 0; kh < 3; kh++) {                                                   \
                    __global const S *p = row[kh];                                                 \
                    if (iw >= 0 && iw < W)                                                         \
                        acc = fma(SLOAD(S, V)(0, p + (size_t)iw * C), w0[kh], acc);                \
                    if (iw + 1 >= 0 && iw + 1 < W)                                                 \
                        acc = fma(SLOAD(S, V)(0, p + (size_t)(iw + 1) * C), w1[kh], acc);          \
                    if (iw + 2 < W)                                                                \
                        acc = fma(SLOAD(S, V)(0, p + (size_t)(iw + 2) * C), w2[kh], acc);          \
                }                                                                                  \
            }                                                                                      \
            if (bias_relu6) acc = clamp(acc + b, 0.0f, 6.0f);                                      \
            SSTORE(S, V)(acc, 0, out + (size_t)ow * C);                                            \
            ow++;                                                                                  \
        }                                                                                          \
    }
DW_ROW(dw_row_vec_global, MBN_CPU_VEC, __global, float)
DW_ROW(dw_row_vec_local, MBN_CPU_VEC, __local, float)
DW_ROW(dw_row_vec_global_h, MBN_CPU_VEC, __global, half)
DW_ROW(dw_row_vec_local_h, MBN_CPU_VEC, __local, half)
#ifdef MBN_CPU_HALF
DW_ROW(dw_row_half_global, MBN_CPU_HALF, __global, float)
DW_ROW(dw_row_half_global_h, MBN_CPU_HALF, __global, half)
#endif
#undef DW_ROW
#undef DW_QUAD_S1
#undef DW_QUAD_S2
#undef DW_TAPS

/* Forward, one work-item per output row (n, oh) x V channels: global size (C / V, N * Ho). */
#define DW_FWD_KERNEL(NAME, ROW, V, S)                                                             \
    __kernel void NAME(__global const S *x, int x_off, __global const S *w, int w_off,             \
                       __global const float *bias, int b_off, int bias_relu6, __global S *y,       \
                       int y_off, int N, int H, int W, int C, int Ho, int Wo, int stride) {        \
        int c = get_global_id(0) * V;                                                              \
        int nh = get_global_id(1);                                                                 \
        if (c >= C || nh >= N * Ho) return;                                                        \
        int n = nh / Ho, oh = nh - n * Ho;                                                         \
        ROW(x + x_off, w + w_off, bias + b_off, bias_relu6, y + y_off + (size_t)nh * Wo * C + c,   \
            n, oh, H, W, C, Wo, stride, c);                                                        \
    }
DW_FWD_KERNEL(dw_conv3x3_fwd_vec, dw_row_vec_global, MBN_CPU_VEC, float)
DW_FWD_KERNEL(dw_conv3x3_fwd_vec_h, dw_row_vec_global_h, MBN_CPU_VEC, half)
#ifdef MBN_CPU_HALF
DW_FWD_KERNEL(dw_conv3x3_fwd_half, dw_row_half_global, MBN_CPU_HALF, float)
DW_FWD_KERNEL(dw_conv3x3_fwd_half_h, dw_row_half_global_h, MBN_CPU_HALF, half)
#endif
#undef DW_FWD_KERNEL

/* Input gradient, one work-item per input row (n, ih) x V channels, the gather and order of
 * dw_conv3x3_bwd_input: input rows whose output row does not exist get zero weights; at
 * stride 1 the interior columns skip the column checks. */
#define DW_BWD_INPUT_KERNEL(NAME, V)                                                               \
    __kernel void NAME(__global const float *dy, int dy_off, __global const float *w, int w_off,   \
                       __global float *dx, int dx_off, int N, int H, int W, int C, int Ho, int Wo, \
                       int stride) {                                                               \
        int c = get_global_id(0) * V;                                                              \
        int nh = get_global_id(1);                                                                 \
        if (c >= C || nh >= N * H) return;                                                         \
        int n = nh / H, ih = nh - n * H;                                                           \
        dy += dy_off;                                                                              \
        w += w_off;                                                                                \
        VT(V) w0[3], w1[3], w2[3];                                                                 \
        __global const float *row[3];                                                              \
        for (int kh = 0; kh < 3; kh++) {                                                           \
            int t = ih + 1 - kh; /* = oh * stride */                                               \
            bool valid = t >= 0 && t % stride == 0 && t / stride < Ho;                             \
            VT(V) m = valid ? (VT(V))1.0f : (VT(V))0.0f;                                           \
            row[kh] = dy + ((size_t)n * Ho + (valid ? t / stride : 0)) * Wo * C + c;               \
            w0[kh] = VL(V)(0, w + (kh * 3 + 0) * C + c) * m;                                       \
            w1[kh] = VL(V)(0, w + (kh * 3 + 1) * C + c) * m;                                       \
            w2[kh] = VL(V)(0, w + (kh * 3 + 2) * C + c) * m;                                       \
        }                                                                                          \
        __global float *out = dx + dx_off + (size_t)nh * W * C + c;                                \
        for (int iw = 0; iw < W; iw++) {                                                           \
            VT(V) acc = 0.0f;                                                                      \
            if (stride == 1 && iw >= 1 && iw + 1 < Wo) {                                           \
                for (int kh = 0; kh < 3; kh++) {                                                   \
                    __global const float *p = row[kh] + (size_t)(iw - 1) * C;                      \
                    acc = fma(VL(V)(0, p + 2 * C), w0[kh], acc); /* kw 0: ow = iw + 1 */           \
                    acc = fma(VL(V)(0, p + C), w1[kh], acc);     /* kw 1: ow = iw */               \
                    acc = fma(VL(V)(0, p), w2[kh], acc);         /* kw 2: ow = iw - 1 */           \
                }                                                                                  \
            } else {                                                                               \
                for (int kh = 0; kh < 3; kh++) {                                                   \
                    for (int kw = 0; kw < 3; kw++) {                                               \
                        int u = iw + 1 - kw;                                                       \
                        if (u < 0 || u % stride) continue;                                         \
                        int ow = u / stride;                                                       \
                        if (ow >= Wo) continue;                                                    \
                        VT(V) wt = kw == 0 ? w0[kh] : kw == 1 ? w1[kh] : w2[kh];                   \
                        acc = fma(VL(V)(0, row[kh] + (size_t)ow * C), wt, acc);                    \
                    }                                                                              \
                }                                                                                  \
            }                                                                                      \
            VS(V)(acc, 0, out + (size_t)iw * C);                                                   \
        }                                                                                          \
    }
DW_BWD_INPUT_KERNEL(dw_conv3x3_bwd_input_vec, MBN_CPU_VEC)
#ifdef MBN_CPU_HALF
DW_BWD_INPUT_KERNEL(dw_conv3x3_bwd_input_half, MBN_CPU_HALF)
#endif
#undef DW_BWD_INPUT_KERNEL

/* Weight gradient stage 1, work-item (c / V, chunk p), the order of
 * dw_conv3x3_bwd_weight_partial: input rows outside the image are read as zeros (fma with a
 * zero leaves the sum's bits as skipping it would), and interior columns skip the checks. */
#define DW_TAP_ACC(t, gk, v)                                                                       \
    if (t == 0) a0 = fma(gk, v, a0);                                                               \
    else if (t == 1) a1 = fma(gk, v, a1);                                                          \
    else if (t == 2) a2 = fma(gk, v, a2);                                                          \
    else if (t == 3) a3 = fma(gk, v, a3);                                                          \
    else if (t == 4) a4 = fma(gk, v, a4);                                                          \
    else if (t == 5) a5 = fma(gk, v, a5);                                                          \
    else if (t == 6) a6 = fma(gk, v, a6);                                                          \
    else if (t == 7) a7 = fma(gk, v, a7);                                                          \
    else a8 = fma(gk, v, a8);
#define DW_BWD_WEIGHT_KERNEL(NAME, V)                                                              \
    __kernel void NAME(__global const float *x, int x_off, __global const float *dy, int dy_off,   \
                       __global float *partial, int N, int H, int W, int C, int Ho, int Wo,        \
                       int stride, int rows_per_chunk) {                                           \
        int c = get_global_id(0) * V;                                                              \
        int p = get_global_id(1);                                                                  \
        if (c >= C) return;                                                                        \
        x += x_off;                                                                                \
        dy += dy_off;                                                                              \
        VT(V) a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f, a4 = 0.0f, a5 = 0.0f, a6 = 0.0f;         \
        VT(V) a7 = 0.0f, a8 = 0.0f;                                                                \
        int r0 = p * rows_per_chunk, r1 = min(r0 + rows_per_chunk, N * Ho);                        \
        int last = (W - 2) / stride; /* largest ow whose three columns are inside */               \
        for (int r = r0; r < r1; r++) {                                                            \
            int n = r / Ho, oh = r - n * Ho;                                                       \
            __global const float *row[3];                                                          \
            float m[3];                                                                            \
            for (int kh = 0; kh < 3; kh++) {                                                       \
                int ih = oh * stride - 1 + kh;                                                     \
                bool valid = ih >= 0 && ih < H;                                                    \
                m[kh] = valid ? 1.0f : 0.0f;                                                       \
                row[kh] = x + ((size_t)n * H + (valid ? ih : oh * stride)) * W * C + c;            \
            }                                                                                      \
            __global const float *g_row = dy + (size_t)r * Wo * C + c;                             \
            for (int ow = 0; ow < Wo; ow++) {                                                      \
                VT(V) g = VL(V)(0, g_row + (size_t)ow * C);                                        \
                int iw = ow * stride - 1;                                                          \
                if (ow >= 1 && ow <= last) {                                                       \
                    VT(V) g0 = g * m[0], g1 = g * m[1], g2 = g * m[2];                             \
                    __global const float *q0 = row[0] + (size_t)iw * C;                            \
                    __global const float *q1 = row[1] + (size_t)iw * C;                            \
                    __global const float *q2 = row[2] + (size_t)iw * C;                            \
                    a0 = fma(g0, VL(V)(0, q0), a0);                                                \
                    a1 = fma(g0, VL(V)(0, q0 + C), a1);                                            \
                    a2 = fma(g0, VL(V)(0, q0 + 2 * C), a2);                                        \
                    a3 = fma(g1, VL(V)(0, q1), a3);                                                \
                    a4 = fma(g1, VL(V)(0, q1 + C), a4);                                            \
                    a5 = fma(g1, VL(V)(0, q1 + 2 * C), a5);                                        \
                    a6 = fma(g2, VL(V)(0, q2), a6);                                                \
                    a7 = fma(g2, VL(V)(0, q2 + C), a7);                                            \
                    a8 = fma(g2, VL(V)(0, q2 + 2 * C), a8);                                        \
                } else {                                                                           \
                    for (int kh = 0; kh < 3; kh++) {                                               \
                        VT(V) gk = g * m[kh];                                                      \
                        for (int kw = 0; kw < 3; kw++) {                                           \
                            int cw = iw + kw;                                                      \
                            if (cw < 0 || cw >= W) continue;                                       \
                            VT(V) v = VL(V)(0, row[kh] + (size_t)cw * C);                          \
                            DW_TAP_ACC(kh * 3 + kw, gk, v)                                         \
                        }                                                                          \
                    }                                                                              \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
        __global float *out = partial + (size_t)p * 9 * C + c;                                     \
        VS(V)(a0, 0, out);                                                                         \
        VS(V)(a1, 0, out + C);                                                                     \
        VS(V)(a2, 0, out + 2 * C);                                                                 \
        VS(V)(a3, 0, out + 3 * C);                                                                 \
        VS(V)(a4, 0, out + 4 * C);                                                                 \
        VS(V)(a5, 0, out + 5 * C);                                                                 \
        VS(V)(a6, 0, out + 6 * C);                                                                 \
        VS(V)(a7, 0, out + 7 * C);                                                                 \
        VS(V)(a8, 0, out + 8 * C);                                                                 \
    }
DW_BWD_WEIGHT_KERNEL(dw_conv3x3_bwd_weight_partial_vec, MBN_CPU_VEC)
#ifdef MBN_CPU_HALF
DW_BWD_WEIGHT_KERNEL(dw_conv3x3_bwd_weight_partial_half, MBN_CPU_HALF)
#endif
#undef DW_BWD_WEIGHT_KERNEL
#undef DW_TAP_ACC

/* ---- Depthwise 3x3 (+ folded bias, ReLU6), then the pointwise conv (+ folded bias, ReLU6),
 * in one kernel: inference on CPU devices (row dwpw_fwd.cpu_row) ----
 * Separately, the depthwise layer writes its whole output and the pointwise GEMM reads it
 * back: at the large resolutions of 1.0-224 (112x112x32, 56x56x128 ...) 50 MB each way at
 * batch 32. Here a work-item computes one depthwise output row (Wo pixels x C channels) into
 * local memory (28 KiB at most at 224: Wo and C halve and double together) and multiplies it
 * by the pointwise weight right away, so the row never leaves the cache.
 *
 * The same bits as dw_conv3x3_fwd_vec then gemm_tiled: the depthwise part is that kernel's
 * code (dw_row_vec_local), and each pointwise output is the in-order fma chain over k of
 * gemm_tiled, here in gemm_tiled's TM x TN register tile (cl/prelude.cl), then its epilogue.
 * Needs C % MBN_CPU_VEC == 0 and Cout % TN == 0 (the host runs the two ops otherwise).
 *
 * wt: the transposed pointwise weight of mbn_op_transpose, row-major [C, Cout] (w_packed = 0)
 * or gemm.cl's TN-column panels (w_packed = 1). buf: (Wo + TM - 1) x C floats of local memory,
 * the TM - 1 extra rows zeroed so the last TM-row tile may read past the row (its extra outputs
 * are not stored). Work-groups of one work-item: global size N * Ho x the chunks of
 * cout_chunk output channels (a multiple of TN): with few rows (batch 1 at 7 x 7) the chunks
 * spread the work over the cores, each work-item computing the depthwise row again. */

/* Row i's A value (local memory, pa = the tile's first row at this k, C floats a row). */
#define AX_LOCAL_K0(i) pa[(i) * C]
#define AX_LOCAL_K1(i) pa[(i) * C + 1]
/* The k loop over the tile's rows of floats in local memory, two k steps an iteration; B (the
 * pointwise weight) stored as S. */
#define DWPW_KLOOP(S)                                                                              \
    int k = 0;                                                                                     \
    for (; k + 2 <= C; k += 2) {                                                                   \
        GEMM_STEP_S(0, AX_LOCAL_K0, S)                                                             \
        GEMM_STEP_S(1, AX_LOCAL_K1, S)                                                             \
        Bp += 2 * ldb;                                                                             \
        pa += 2;                                                                                   \
    }                                                                                              \
    if (k < C) GEMM_STEP_S(0, AX_LOCAL_K0, S)
/* The GEMM's A rows as floats: the depthwise rows themselves, or (halves) their n values
 * converted into the local memory after them once, so that the k loop broadcasts floats
 * from memory as for fp32 instead of converting every A value (a scalar vload_half costs 15
 * times a float load on PoCL). Needs n % MBN_CPU_VEC == 0 (C is a multiple of it). */
#define DWPW_FLOAT_ROWS_float(buf, n) (buf)
#define DWPW_FLOAT_ROWS_half(buf, n) dwpw_float_rows(buf, n)
static __local float *dwpw_float_rows(__local half *buf, int n) {
    __local float *f = (__local float *)(buf + n);
    for (int i = 0; i < n / MBN_CPU_VEC; i++)
        VSTORE(SLOAD(half, MBN_CPU_VEC)(i, buf), i, f);
    return f;
}
#define DWPW_STORE(i, S)                                                                           \
    if (m0 + i < Wo) {                                                                             \
        SSTORE(S, MBN_CPU_VEC)(clamp(c##i##0 + bias0, 0.0f, 6.0f), 0, o + (size_t)(i) * Cout);     \
        SSTORE(S, MBN_CPU_VEC)(clamp(c##i##1 + bias1, 0.0f, 6.0f), 1, o + (size_t)(i) * Cout);     \
    }

/* S: the storage of activations and weights (float, or half for the fp16 inference path, whose
 * depthwise row is rounded to half in local memory as it would be between two kernels; buf then
 * holds the halves and, after them, the same values as floats: DWPW_FLOAT_ROWS_half). */
#define DW_PW_KERNEL(NAME, ROW, S)                                                                 \
    __kernel void NAME(__global const S *x, int x_off, __global const S *dw_w, int dw_w_off,       \
                       __global const float *dw_b, int dw_b_off, __global const S *wt, int wt_off, \
                       int w_packed, __global const float *pw_b, int pw_b_off, __global S *y,      \
                       int y_off, __local S *buf, int N, int H, int W, int C, int Ho, int Wo,      \
                       int stride, int Cout, int cout_chunk) {                                     \
        int nh = get_global_id(0);                                                                 \
        int n_begin = get_global_id(1) * cout_chunk, n_end = min(Cout, n_begin + cout_chunk);      \
        if (nh >= N * Ho || n_begin >= Cout) return;                                               \
        int n = nh / Ho, oh = nh - n * Ho;                                                         \
        for (int c = 0; c < C; c += MBN_CPU_VEC)                                                   \
            ROW(x + x_off, dw_w + dw_w_off, dw_b + dw_b_off, 1, buf + c, n, oh, H, W, C, Wo,       \
                stride, c);                                                                        \
        for (int i = Wo * C; i < (Wo + GEMM_TM - 1) * C; i++)                                      \
            SSTORE1(S, 0.0f, i, buf);                                                              \
        __local const float *rows = DWPW_FLOAT_ROWS_##S(buf, (Wo + GEMM_TM - 1) * C);            \
        __global S *out = y + y_off + (size_t)nh * Wo * Cout;                                      \
        __global const float *bias = pw_b + pw_b_off;                                              \
        int ldb = w_packed ? GEMM_TN : Cout;                                                       \
        for (int n0 = n_begin; n0 < n_end; n0 += GEMM_TN) {                                        \
            __global const S *B = wt + wt_off + (w_packed ? (size_t)n0 * C : (size_t)n0);          \
            VF bias0 = VLOAD(0, bias + n0), bias1 = VLOAD(1, bias + n0);                           \
            for (int m0 = 0; m0 < Wo; m0 += GEMM_TM) {                                             \
                FOR_ROWS(GEMM_DECL_ACC, 0)                                                         \
                __local const float *pa = rows + (size_t)m0 * C;                                   \
                __global const S *Bp = B;                                                          \
                DWPW_KLOOP(S)                                                                      \
                __global S *o = out + (size_t)m0 * Cout + n0;                                      \
                FOR_ROWS(DWPW_STORE, S)                                                            \
            }                                                                                      \
        }                                                                                          \
    }
DW_PW_KERNEL(dw_pw_fwd_vec, dw_row_vec_local, float)
DW_PW_KERNEL(dw_pw_fwd_vec_h, dw_row_vec_local_h, half)
#undef DW_PW_KERNEL
#undef DWPW_STORE
#undef DWPW_KLOOP
#undef DWPW_FLOAT_ROWS_float
#undef DWPW_FLOAT_ROWS_half
#undef AX_LOCAL_K0
#undef AX_LOCAL_K1
