/* Depthwise 3x3 (+ folded bias, ReLU6) followed by the pointwise conv (+ folded bias, ReLU6)
 * in one kernel, for inference on CPU devices (row dwpw_fwd.cpu_row). Separately, the depthwise
 * layer writes its whole output and the pointwise GEMM reads it back: at the large resolutions
 * of 1.0-224 (112x112x32, 56x56x128 ...) that is 50 MB each way at batch 32, and both kernels
 * are memory-bound. Here a work-item computes one depthwise output row (Wo pixels x C
 * channels) into local memory (28 KiB at most at 224: Wo x C halves and doubles together) and
 * multiplies it by the pointwise weight right away, so the row never leaves the cache.
 *
 * The same bits as dw_conv3x3_fwd_row16 then gemm_tiled: the depthwise part is that kernel's
 * code (taps in the same order, padding as zero weights and checked edge columns), and each
 * pointwise output is the in-order fma chain over k of gemm_tiled's 6 x 32 tile, then its
 * epilogue. Needs C % 16 == 0 and Cout % 32 == 0 (the host runs the two ops otherwise).
 *
 * wt: the transposed pointwise weight of mbn_op_transpose, row-major [C, Cout] (w_packed = 0)
 * or gemm.cl's 32-column panels (w_packed = 1). buf: (Wo + 5) x C floats of local memory, the
 * 5 extra rows zeroed so the last 6-row tile may read past the row (its extra outputs are not
 * stored). Work-groups of one work-item: global size N * Ho. */

#if MBN_GEMM_CPU_TN != 32
#error "dw_pw_fwd_row16 is written for 32-column tiles"
#endif

/* One depthwise output row, 16 channels at c, into out (row-major [Wo, C]). */
static void dwpw_dw_row16(__global const float *x, __global const float *w,
                          __global const float *bias, __local float *out, int n, int oh, int H,
                          int W, int C, int Wo, int stride, int c) {
    float16 w0[3], w1[3], w2[3];
    __global const float *row[3];
    for (int kh = 0; kh < 3; kh++) {
        int ih = oh * stride - 1 + kh;
        bool valid = ih >= 0 && ih < H;
        float16 m = valid ? (float16)1.0f : (float16)0.0f;
        row[kh] = x + ((size_t)n * H + (valid ? ih : oh * stride)) * W * C + c;
        w0[kh] = vload16(0, w + (kh * 3 + 0) * C + c) * m;
        w1[kh] = vload16(0, w + (kh * 3 + 1) * C + c) * m;
        w2[kh] = vload16(0, w + (kh * 3 + 2) * C + c) * m;
    }
    float16 b = vload16(0, bias + c);
    __local float *o = out + c;
    int first = 1, last = (W - 2) / stride;
    if (last > Wo - 1) last = Wo - 1;
    for (int ow = 0; ow < Wo; ow++) {
        float16 acc = 0.0f;
        int iw = ow * stride - 1;
        if (ow >= first && ow <= last) {
            for (int kh = 0; kh < 3; kh++) {
                __global const float *p = row[kh] + (size_t)iw * C;
                acc = fma(vload16(0, p), w0[kh], acc);
                acc = fma(vload16(0, p + C), w1[kh], acc);
                acc = fma(vload16(0, p + 2 * C), w2[kh], acc);
            }
        } else {
            for (int kh = 0; kh < 3; kh++) {
                __global const float *p = row[kh];
                if (iw >= 0 && iw < W) acc = fma(vload16(0, p + (size_t)iw * C), w0[kh], acc);
                if (iw + 1 >= 0 && iw + 1 < W)
                    acc = fma(vload16(0, p + (size_t)(iw + 1) * C), w1[kh], acc);
                if (iw + 2 < W) acc = fma(vload16(0, p + (size_t)(iw + 2) * C), w2[kh], acc);
            }
        }
        vstore16(clamp(acc + b, 0.0f, 6.0f), 0, o + (size_t)ow * C);
    }
}

/* One k step of the 6 x 32 tile (gemm.cl's GEMM_STEP with A in local memory). */
#define DWPW_STEP(kk)                                                                              \
    {                                                                                              \
        float16 b0 = vload16(0, Bp + (kk) * ldb), b1 = vload16(1, Bp + (kk) * ldb);                \
        float a;                                                                                   \
        a = p0[kk];                                                                                \
        c00 = fma((float16)a, b0, c00);                                                            \
        c01 = fma((float16)a, b1, c01);                                                            \
        a = p0[C + (kk)];                                                                          \
        c10 = fma((float16)a, b0, c10);                                                            \
        c11 = fma((float16)a, b1, c11);                                                            \
        a = p0[2 * C + (kk)];                                                                      \
        c20 = fma((float16)a, b0, c20);                                                            \
        c21 = fma((float16)a, b1, c21);                                                            \
        a = p3[kk];                                                                                \
        c30 = fma((float16)a, b0, c30);                                                            \
        c31 = fma((float16)a, b1, c31);                                                            \
        a = p3[C + (kk)];                                                                          \
        c40 = fma((float16)a, b0, c40);                                                            \
        c41 = fma((float16)a, b1, c41);                                                            \
        a = p3[2 * C + (kk)];                                                                      \
        c50 = fma((float16)a, b0, c50);                                                            \
        c51 = fma((float16)a, b1, c51);                                                            \
    }

__kernel void dw_pw_fwd_row16(__global const float *x, int x_off, __global const float *dw_w,
                              int dw_w_off, __global const float *dw_b, int dw_b_off,
                              __global const float *wt, int wt_off, int w_packed,
                              __global const float *pw_b, int pw_b_off, __global float *y,
                              int y_off, __local float *buf, int N, int H, int W, int C, int Ho,
                              int Wo, int stride, int Cout) {
    int nh = get_global_id(0);
    if (nh >= N * Ho) return;
    int n = nh / Ho, oh = nh - n * Ho;
    for (int c = 0; c < C; c += 16)
        dwpw_dw_row16(x + x_off, dw_w + dw_w_off, dw_b + dw_b_off, buf, n, oh, H, W, C, Wo,
                      stride, c);
    for (int i = Wo * C; i < (Wo + 5) * C; i++)
        buf[i] = 0.0f;
    __global float *out = y + y_off + (size_t)nh * Wo * Cout;
    __global const float *bias = pw_b + pw_b_off;
    int ldb = w_packed ? 32 : Cout;
    for (int n0 = 0; n0 < Cout; n0 += 32) {
        __global const float *B = wt + wt_off + (w_packed ? (size_t)n0 * C : (size_t)n0);
        float16 bias0 = vload16(0, bias + n0), bias1 = vload16(1, bias + n0);
        for (int m0 = 0; m0 < Wo; m0 += 6) {
            float16 c00 = 0.0f, c01 = 0.0f, c10 = 0.0f, c11 = 0.0f, c20 = 0.0f, c21 = 0.0f;
            float16 c30 = 0.0f, c31 = 0.0f, c40 = 0.0f, c41 = 0.0f, c50 = 0.0f, c51 = 0.0f;
            __local const float *p0 = buf + (size_t)m0 * C, *p3 = p0 + 3 * C;
            __global const float *Bp = B;
            int k = 0;
            for (; k + 2 <= C; k += 2) {
                DWPW_STEP(0)
                DWPW_STEP(1)
                Bp += 2 * ldb;
                p0 += 2;
                p3 += 2;
            }
            if (k < C) DWPW_STEP(0)
            __global float *o = out + (size_t)m0 * Cout + n0;
#define DWPW_STORE(i, v0, v1)                                                                      \
    if (m0 + i < Wo) {                                                                             \
        vstore16(clamp(v0 + bias0, 0.0f, 6.0f), 0, o + (size_t)(i) * Cout);                        \
        vstore16(clamp(v1 + bias1, 0.0f, 6.0f), 0, o + (size_t)(i) * Cout + 16);                   \
    }
            DWPW_STORE(0, c00, c01)
            DWPW_STORE(1, c10, c11)
            DWPW_STORE(2, c20, c21)
            DWPW_STORE(3, c30, c31)
            DWPW_STORE(4, c40, c41)
            DWPW_STORE(5, c50, c51)
#undef DWPW_STORE
        }
    }
}
#undef DWPW_STEP
