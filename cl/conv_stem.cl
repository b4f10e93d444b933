/* Stem convolution (3x3, stride s, 3 input channels) as im2col + one CLBlast GEMM.
 * patches[m, k] with m = (n*Ho + oh)*Wo + ow and k = ci*9 + kh*3 + kw, so the OIHW weight
 * [Cout, 27] multiplies it directly; zero padding 1. The same patches give the weight
 * gradient as dz^T x patches in backward. */
__kernel void stem_im2col(__global const float *x, int x_off, __global float *patches, int p_off,
                          int N, int H, int W, int Ho, int Wo, int stride) {
    int ow = get_global_id(0);
    int nh = get_global_id(1);
    if (ow >= Wo || nh >= N * Ho) return;
    int n = nh / Ho, oh = nh - n * Ho;
    x += x_off;
    __global float *p = patches + p_off + ((size_t)nh * Wo + ow) * 27;
    for (int kh = 0; kh < 3; kh++) {
        int ih = oh * stride - 1 + kh;
        for (int kw = 0; kw < 3; kw++) {
            int iw = ow * stride - 1 + kw;
            bool inside = ih >= 0 && ih < H && iw >= 0 && iw < W;
            size_t base = (((size_t)n * H + (inside ? ih : 0)) * W + (inside ? iw : 0)) * 3;
            for (int ci = 0; ci < 3; ci++) p[ci * 9 + kh * 3 + kw] = inside ? x[base + ci] : 0.0f;
        }
    }
}

/* Direct stem convolution for CPU devices (row stem_fwd.cpu_direct): the im2col GEMM above
 * without the patches. im2col writes M x 27 floats (43 MB at 1.0-224 batch 32) that the GEMM
 * then reads back, 3.6x the input image; here each work-item reads the image rows it needs
 * (from cache: neighbouring output rows share them) and keeps the weights in L1.
 *
 * One work-item computes one output row (n, oh) for a block of TN = two cpu vectors of channels
 * (one vector for the last block when Cout % TN == TN / 2), in tiles of 6 pixels x TN channels:
 * 12 VF accumulators (they fit the 16 vector registers of AVX2 and SSE), the
 * register tile of gemm.cl, with the 6 A values of step k read straight from the image. Each
 * output is the in-order sum over k = ci * 9 + kh * 3 + kw of fma(patch[k], wt[k]), padding
 * taps contributing fma(0.0f, w, acc) exactly as the zeros im2col writes: the same bits as
 * stem_im2col + gemm_tiled. Then the epilogue (bias + ReLU6 for the folded BN, or none) as
 * gemm_tiled's. Columns whose 3x3 window is inside the image run the unchecked tile (its
 * first and, when 6 does not divide the interior, an overlapping last tile recomputing a few
 * pixels with the same bits); the edge columns and the rows touching the padding run a checked
 * one-pixel path.
 *
 * wt is the transposed weight [27, Cout] of mbn_op_transpose: row-major (w_packed = 0) or in
 * gemm.cl's TN-column panels (w_packed = 1, see b_tile there). */

/* The weight block of channels c0.. and its row stride, in either layout. */
static __global const float *stem_w_block(__global const float *wt, int w_packed, int c0,
                                          int Cout, int *ldw) {
    if (!w_packed) {
        *ldw = Cout;
        return wt + c0;
    }
    int full = Cout / GEMM_TN * GEMM_TN;
    if (c0 < full) {
        *ldw = GEMM_TN;
        return wt + (size_t)(c0 / GEMM_TN) * 27 * GEMM_TN;
    }
    *ldw = Cout - full;
    return wt + (size_t)full * 27 + (c0 - full);
}

static inline VF stem_epilogue(VF v, __global const float *bias, int epilogue) {
    if (!epilogue) return v;
    return clamp(v + VLOAD(0, bias), 0.0f, 6.0f);
}

/* Vector `part` (0: channels 0 .. V - 1 of the block, 1: V .. 2V - 1) of the output pixel whose
 * first channel is value `at` of y, after the epilogue: bit 0 of `epilogue` adds the bias and
 * clamps (the folded BN and ReLU6), bit 1 stores half values rounded once (the fp16 inference
 * path; y then holds halves) instead of floats. */
static inline void stem_store(VF v, __global const float *bias, int epilogue, int part,
                              __global float *y, size_t at) {
    v = stem_epilogue(v, bias + part * MBN_CPU_VEC, epilogue & 1);
    if (epilogue & 2)
        SSTORE(half, MBN_CPU_VEC)(v, part, (__global half *)y + at);
    else
        VSTORE(v, part, y + at);
}

/* Six output pixels ow0..ow0+5 of the row whose three input rows start at r0, r1, r2 (all
 * inside the image, as are columns ow0 * S - 1 .. (ow0 + 5) * S + 1); NV = 2: TN channels,
 * 1: TN / 2. S is a constant at the call sites that matter (the model's stride 2). */
static inline void stem_tile6(__global const float *r0, __global const float *r1,
                              __global const float *r2, int ow0, int S, int NV,
                              __global const float *w, int ldw, __global const float *bias,
                              int epilogue, __global float *y, size_t out, int Cout) {
    VF c00 = 0.0f, c01 = 0.0f, c10 = 0.0f, c11 = 0.0f, c20 = 0.0f, c21 = 0.0f;
    VF c30 = 0.0f, c31 = 0.0f, c40 = 0.0f, c41 = 0.0f, c50 = 0.0f, c51 = 0.0f;
    int d = 3 * S; /* floats between the same tap of neighbouring pixels */
    int col = (ow0 * S - 1) * 3;
    for (int ci = 0; ci < 3; ci++) {
        for (int kh = 0; kh < 3; kh++) {
            __global const float *r = kh == 0 ? r0 : kh == 1 ? r1 : r2;
            for (int kw = 0; kw < 3; kw++) {
                int k = ci * 9 + kh * 3 + kw;
                __global const float *p = r + col + kw * 3 + ci;
                VF b0 = VLOAD(0, w + (size_t)k * ldw);
                VF b1 = NV == 2 ? VLOAD(1, w + (size_t)k * ldw) : (VF)0.0f;
                float a;
                a = p[0];
                c00 = fma((VF)a, b0, c00);
                if (NV == 2) c01 = fma((VF)a, b1, c01);
                a = p[d];
                c10 = fma((VF)a, b0, c10);
                if (NV == 2) c11 = fma((VF)a, b1, c11);
                a = p[2 * d];
                c20 = fma((VF)a, b0, c20);
                if (NV == 2) c21 = fma((VF)a, b1, c21);
                a = p[3 * d];
                c30 = fma((VF)a, b0, c30);
                if (NV == 2) c31 = fma((VF)a, b1, c31);
                a = p[4 * d];
                c40 = fma((VF)a, b0, c40);
                if (NV == 2) c41 = fma((VF)a, b1, c41);
                a = p[5 * d];
                c50 = fma((VF)a, b0, c50);
                if (NV == 2) c51 = fma((VF)a, b1, c51);
            }
        }
    }
    size_t o = out + (size_t)ow0 * Cout;
#define STEM_STORE(i, x0, x1)                                                                      \
    stem_store(x0, bias, epilogue, 0, y, o + (size_t)(i) * Cout);                                  \
    if (NV == 2) stem_store(x1, bias, epilogue, 1, y, o + (size_t)(i) * Cout);
    STEM_STORE(0, c00, c01)
    STEM_STORE(1, c10, c11)
    STEM_STORE(2, c20, c21)
    STEM_STORE(3, c30, c31)
    STEM_STORE(4, c40, c41)
    STEM_STORE(5, c50, c51)
#undef STEM_STORE
}

/* One output pixel with every tap checked (image edges, small images). */
static void stem_pixel(__global const float *img, int H, int W, int oh, int ow, int S, int NV,
                       __global const float *w, int ldw, __global const float *bias,
                       int epilogue, __global float *y, size_t out, int Cout) {
    VF c0 = 0.0f, c1 = 0.0f;
    for (int ci = 0; ci < 3; ci++)
        for (int kh = 0; kh < 3; kh++) {
            int ih = oh * S - 1 + kh;
            for (int kw = 0; kw < 3; kw++) {
                int iw = ow * S - 1 + kw;
                int k = ci * 9 + kh * 3 + kw;
                bool inside = ih >= 0 && ih < H && iw >= 0 && iw < W;
                float a = inside ? img[((size_t)ih * W + iw) * 3 + ci] : 0.0f;
                c0 = fma((VF)a, VLOAD(0, w + (size_t)k * ldw), c0);
                if (NV == 2) c1 = fma((VF)a, VLOAD(1, w + (size_t)k * ldw), c1);
            }
        }
    size_t o = out + (size_t)ow * Cout;
    stem_store(c0, bias, epilogue, 0, y, o);
    if (NV == 2) stem_store(c1, bias, epilogue, 1, y, o);
}

/* A whole output row for one channel block. */
static inline void stem_row(__global const float *img, int H, int W, int oh, int Wo, int S,
                            int NV, __global const float *w, int ldw,
                            __global const float *bias, int epilogue, __global float *y,
                            size_t out, int Cout) {
    /* Interior columns: ow * S - 1 >= 0 and ow * S + 1 <= W - 1. */
    int first = 1, last = min((W - 2) / S, Wo - 1);
    bool rows_inside = oh * S - 1 >= 0 && oh * S + 1 <= H - 1;
    if (!rows_inside || last - first + 1 < 6) {
        for (int ow = 0; ow < Wo; ow++)
            stem_pixel(img, H, W, oh, ow, S, NV, w, ldw, bias, epilogue, y, out, Cout);
        return;
    }
    __global const float *r0 = img + (size_t)(oh * S - 1) * W * 3;
    __global const float *r1 = r0 + (size_t)W * 3, *r2 = r1 + (size_t)W * 3;
    for (int ow = 0; ow < first; ow++)
        stem_pixel(img, H, W, oh, ow, S, NV, w, ldw, bias, epilogue, y, out, Cout);
    int ow0 = first;
    for (; ow0 + 5 <= last; ow0 += 6)
        stem_tile6(r0, r1, r2, ow0, S, NV, w, ldw, bias, epilogue, y, out, Cout);
    if (ow0 <= last) stem_tile6(r0, r1, r2, last - 5, S, NV, w, ldw, bias, epilogue, y, out, Cout);
    for (int ow = last + 1; ow < Wo; ow++)
        stem_pixel(img, H, W, oh, ow, S, NV, w, ldw, bias, epilogue, y, out, Cout);
}

/* Global size: (channel blocks of TN, N * Ho output rows), work-groups of one work-item.
 * Needs Cout % MBN_CPU_VEC == 0 (the host falls back to im2col + GEMM otherwise). epilogue: see
 * stem_store (bit 1: y holds halves, y_off counts halves). */
__kernel void stem_conv3x3_direct(__global const float *x, int x_off, __global const float *wt,
                                  int w_off, int w_packed, __global const float *bias, int b_off,
                                  int epilogue, __global float *y, int y_off, int N, int H,
                                  int W, int Cout, int Ho, int Wo, int stride) {
    int c0 = get_global_id(0) * GEMM_TN;
    int nh = get_global_id(1);
    if (c0 >= Cout || nh >= N * Ho) return;
    int n = nh / Ho, oh = nh - n * Ho;
    int ldw;
    __global const float *w = stem_w_block(wt + w_off, w_packed, c0, Cout, &ldw);
    __global const float *img = x + x_off + (size_t)n * H * W * 3;
    __global const float *b = bias + b_off + c0;
    size_t out = y_off + (size_t)nh * Wo * Cout + c0;
    int NV = Cout - c0 >= GEMM_TN ? 2 : 1;
    if (stride == 2 && NV == 2)
        stem_row(img, H, W, oh, Wo, 2, 2, w, ldw, b, epilogue, y, out, Cout);
    else if (stride == 2)
        stem_row(img, H, W, oh, Wo, 2, 1, w, ldw, b, epilogue, y, out, Cout);
    else if (NV == 2)
        stem_row(img, H, W, oh, Wo, stride, 2, w, ldw, b, epilogue, y, out, Cout);
    else
        stem_row(img, H, W, oh, Wo, stride, 1, w, ldw, b, epilogue, y, out, Cout);
}
