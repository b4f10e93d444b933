/* The fp16 inference path on the gpu rows (gemm.gpu_tiled, dw_fwd.gpu_tile): activations and
 * weights stored as half (cl/half.cl says what stays float), the tiles of gemm_gpu.cl and
 * depthwise_gpu.cl (their BM, BN, BK, TM, TN and DWF_* defines) without the training options
 * (no BatchNorm on load, no statistics, no split K).
 *
 * Arithmetic: the rows' HALF_ARITH parameter (host/plan.c sets it to 1 where the device has
 * cl_khr_fp16; it cannot be 1 elsewhere) makes the local tiles and the products half, in half2
 * vectors (two columns of a work-item's block at a time: packed half math where the hardware
 * has it), with the long sums kept in float: a GEMM adds each BK-long block of products in half
 * and the blocks into float accumulators (K is up to 1024: a half sum of 1024 terms would lose
 * about 10 bits); a depthwise output adds its 9 taps in half. Without it (any device: PoCL, and
 * GPUs without the extension) the same kernels run on float tiles, products and sums. The
 * bias, ReLU6 and the final rounding to half are float either way. */

/* The kernels' names start with "half_": oclgrind 21.10 charges a kernel with the __local arrays
 * of every kernel whose name its own name begins (gemm_gpu with gemm_gpu_h's), which took
 * dw_conv3x3_fwd and dw_conv3x3_fwd_tile past its 32 KiB of local memory. */
#if defined(cl_khr_fp16) && (MBN_GEMM_GPU_HALF_ARITH || MBN_DWF_GPU_HALF_ARITH)
#pragma OPENCL EXTENSION cl_khr_fp16 : enable
#endif
#if defined(cl_khr_fp16) && MBN_GEMM_GPU_HALF_ARITH
typedef half gemm_t;
typedef half2 gemm_t2;
#else
typedef float gemm_t;
typedef float2 gemm_t2;
#endif
#if defined(cl_khr_fp16) && MBN_DWF_GPU_HALF_ARITH
typedef half dw_t;
#else
typedef float dw_t;
#endif

/* C[M, N] = A[M, K] B[K, N] (+ bias, ReLU6 when relu6), A and C half row-major (strides lda,
 * ldc), B half row-major [K, N] (bn_fold_h layout 1). Work-group and tiles as gemm_gpu; each
 * output's k blocks are added in increasing order (within a block: in order too). */
__kernel __attribute__((reqd_work_group_size(LX, LY, 1))) void
half_gemm_gpu(__global const half *A, int a_off, int lda, __global const half *B, int b_off,
              int ldb, __global half *C, int c_off, int ldc, __global const float *bias,
              int bias_off, int relu6, int M, int N, int K) {
    __local gemm_t As[BK][BM + 1];
    __local gemm_t Bs[BK][BN];
    int tx = get_local_id(0), ty = get_local_id(1), lid = ty * LX + tx;
    int n0 = get_group_id(0) * BN, m0 = get_group_id(1) * BM;
    float acc[TM][TN];
    for (int i = 0; i < TM; i++)
        for (int j = 0; j < TN; j++) acc[i][j] = 0.0f;
    for (int k0 = 0; k0 < K; k0 += BK) {
        for (int e = lid; e < BM * BK; e += LX * LY) { /* adjacent work-items: adjacent k */
            int mm = e / BK, kk = e % BK, m = m0 + mm, k = k0 + kk;
            As[kk][mm] = (gemm_t)(m < M && k < K ? vload_half(a_off + (size_t)m * lda + k, A)
                                                 : 0.0f);
        }
        for (int e = lid; e < BK * BN; e += LX * LY) {
            int kk = e / BN, nn = e % BN, k = k0 + kk, n = n0 + nn;
            Bs[kk][nn] = (gemm_t)(k < K && n < N ? vload_half(b_off + (size_t)k * ldb + n, B)
                                                 : 0.0f);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        int kn = min(BK, K - k0);
        /* this block's products of each output, two columns (j, j + 1) a vector */
        gemm_t2 part[TM][TN / 2];
        for (int i = 0; i < TM; i++)
            for (int j = 0; j < TN / 2; j++) part[i][j] = (gemm_t2)0;
        for (int kk = 0; kk < kn; kk++)
            for (int i = 0; i < TM; i++) {
                gemm_t2 a = (gemm_t2)As[kk][ty + i * LY];
                for (int j = 0; j < TN / 2; j++) {
                    gemm_t2 b = (gemm_t2)(Bs[kk][tx + 2 * j * LX], Bs[kk][tx + (2 * j + 1) * LX]);
                    part[i][j] = fma(a, b, part[i][j]);
                }
            }
        for (int i = 0; i < TM; i++)
            for (int j = 0; j < TN / 2; j++) {
                acc[i][2 * j] += (float)part[i][j].s0;
                acc[i][2 * j + 1] += (float)part[i][j].s1;
            }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    /* output (i, j) of the block: row m0 + ty + i LY, column n0 + tx + j LX (coalesced) */
    for (int e = 0; e < TM * TN; e++) {
        int m = m0 + ty + e / TN * LY, n = n0 + tx + e % TN * LX;
        float v = acc[e / TN][e % TN];
        if (m < M && n < N)
            vstore_half_rte(relu6 ? clamp(v + bias[bias_off + n], 0.0f, 6.0f) : v,
                            c_off + (size_t)m * ldc + n, C);
    }
}

/* Depthwise 3x3 + bias + ReLU6 (bias_relu6), x, w ([9, C]) and y half: the work-group of
 * dw_conv3x3_fwd_tile (LC channels x LP lanes, a TH x TW output tile, its input tile and halo
 * in local memory, zeros outside the image), taps in the order kh, kw. */
__kernel __attribute__((reqd_work_group_size(DWF_LC, DWF_LP, 1))) void
half_dw_conv3x3_tile(__global const half *x, int x_off, __global const half *w, int w_off,
                     __global const float *bias, int b_off, int bias_relu6, __global half *y,
                     int y_off, int N, int H, int W, int C, int Ho, int Wo, int stride) {
    __local dw_t xs[DWF_IH * DWF_IW * DWF_LC];
    int lc = get_local_id(0), lp = get_local_id(1);
    int c0 = get_group_id(0) * DWF_LC, c = c0 + lc;
    int tiles_w = (Wo + DWF_TW - 1) / DWF_TW, tile = get_group_id(1), n = get_group_id(2);
    int oh0 = (tile / tiles_w) * DWF_TH, ow0 = (tile % tiles_w) * DWF_TW;
    int in_h = (DWF_TH - 1) * stride + 3, in_w = (DWF_TW - 1) * stride + 3;
    for (int e = lp * DWF_LC + lc; e < in_h * in_w * DWF_LC; e += DWF_LC * DWF_LP) {
        int cl = e % DWF_LC, r = e / DWF_LC / in_w, q = e / DWF_LC % in_w;
        int ih = oh0 * stride - 1 + r, iw = ow0 * stride - 1 + q, ch = c0 + cl;
        bool inside = ih >= 0 && ih < H && iw >= 0 && iw < W && ch < C;
        xs[(r * DWF_IW + q) * DWF_LC + cl] =
            (dw_t)(inside ? vload_half(x_off + (((size_t)n * H + ih) * W + iw) * C + ch, x)
                          : 0.0f);
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    if (c >= C) return;
    dw_t taps[9];
    for (int t = 0; t < 9; t++) taps[t] = (dw_t)vload_half(w_off + t * C + c, w);
    float b = bias_relu6 ? bias[b_off + c] : 0.0f;
    for (int q = lp; q < DWF_TH * DWF_TW; q += DWF_LP) {
        int oh = oh0 + q / DWF_TW, ow = ow0 + q % DWF_TW;
        if (oh >= Ho || ow >= Wo) continue;
        int tap0 = (q / DWF_TW) * stride * DWF_IW + (q % DWF_TW) * stride; /* kh = kw = 0 */
        __local const dw_t *p = xs + tap0 * DWF_LC + lc;
        dw_t sum = 0;
        for (int kh = 0; kh < 3; kh++)
            for (int kw = 0; kw < 3; kw++)
                sum = fma(p[(kh * DWF_IW + kw) * DWF_LC], taps[kh * 3 + kw], sum);
        float v = (float)sum;
        if (bias_relu6) v = clamp(v + b, 0.0f, 6.0f);
        vstore_half_rte(v, y_off + (((size_t)n * Ho + oh) * Wo + ow) * C + c, y);
    }
}
