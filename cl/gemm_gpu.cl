/* Local-memory tiled SGEMM for GPUs (the gpu rows gemm.gpu_tiled and gemm_wgrad.gpu_splitk of
 * host/variants.c): C[M, N] = op(A)[M, K] B[K, N], row-major.
 *
 * A work-group of (BN / TN) x (BM / TM) work-items owns a BM x BN tile of C. Each step loads a
 * BM x BK tile of A and a BK x BN tile of B into local memory (coalesced: adjacent work-items
 * read adjacent floats in both storage orders of A), then every work-item accumulates its
 * TM x TN outputs in registers. Work-item (tx, ty) owns rows ty + i * LY and columns
 * tx + j * LX, so its stores are coalesced too. Each output is one sum over k in increasing
 * order (fma): deterministic, and independent of the tile parameters.
 *
 * Options, all uniform across a launch:
 *   a_trans   A stored [K, M] (weight gradients dW = dY^T X read dY as the transposed A);
 *   split-K   dimension 2 of the grid: chunk p sums k in [p * k_chunk, ...) into C + p * c_chunk
 *             (the host adds the chunks in order);
 *   bn_in     BatchNorm + ReLU6 of the previous layer applied to A as it is loaded
 *             (a = clamp((a - mean[k]) * invstd[k] * gamma[k] + beta[k], 0, 6)); the work-groups
 *             of the first column tile also store the activated A to y_out (backward needs it),
 *             so no separate pass over the activation writes it;
 *   epilogue  0 none, 1 bias + ReLU6 (folded BN), 2 bias, 3 BatchNorm statistics of the tile:
 *             per column, the count, mean and sum of squared deviations of the tile's rows
 *             (two passes over the registers), to stats[tile_row] for bn_stats_merge. */

#define BM MBN_GEMM_GPU_BM
#define BN MBN_GEMM_GPU_BN
#define BK MBN_GEMM_GPU_BK
#define TM MBN_GEMM_GPU_TM
#define TN MBN_GEMM_GPU_TN
#define LX (BN / TN)
#define LY (BM / TM)
#if BM % TM || BN % TN
#error "gemm_gpu: BM and BN must be multiples of TM and TN"
#endif

typedef struct {
    __global const float *gamma, *beta, *mean, *invstd;
} BnIn;

static inline float bn_relu6(float a, int k, BnIn bn) {
    return clamp((a - bn.mean[k]) * bn.invstd[k] * bn.gamma[k] + bn.beta[k], 0.0f, 6.0f);
}

__kernel __attribute__((reqd_work_group_size(LX, LY, 1))) void
gemm_gpu(__global const float *A, int a_off, int lda, int a_trans, __global const float *B,
         int b_off, int ldb, __global float *C, int c_off, int ldc, int M, int N, int K,
         int k_chunk, int c_chunk, __global const float *bias, int bias_off, int epilogue,
         int bn_in, __global const float *gamma, int g_off, __global const float *beta,
         int be_off, __global const float *mean, __global const float *invstd, int stat_off,
         __global float *y_out, int y_off, __global float *stats, int stats_rows) {
    __local float As[BK][BM + 1];
    __local float Bs[BK][BN];
    __local float red[LY][BN];
    __local float tile_mean[BN];
    int tx = get_local_id(0), ty = get_local_id(1), lid = ty * LX + tx;
    int n0 = get_group_id(0) * BN, m0 = get_group_id(1) * BM, p = get_group_id(2);
    int k_begin = p * k_chunk, k_end = min(K, k_begin + k_chunk);
    A += a_off;
    B += b_off;
    C += c_off + (size_t)p * c_chunk;
    BnIn bn = {gamma + g_off, beta + be_off, mean + stat_off, invstd + stat_off};
    float acc[TM][TN];
    for (int i = 0; i < TM; i++)
        for (int j = 0; j < TN; j++) acc[i][j] = 0.0f;
    bool store_y = bn_in && get_group_id(0) == 0;
    for (int k0 = k_begin; k0 < k_end; k0 += BK) {
        for (int e = lid; e < BM * BK; e += LX * LY) {
            int mm, kk;
            if (a_trans) mm = e % BM, kk = e / BM; /* adjacent work-items: adjacent m */
            else mm = e / BK, kk = e % BK;         /* adjacent work-items: adjacent k */
            int m = m0 + mm, k = k0 + kk;
            float a = 0.0f;
            if (m < M && k < k_end) {
                a = a_trans ? A[(size_t)k * lda + m] : A[(size_t)m * lda + k];
                if (bn_in) {
                    a = bn_relu6(a, k, bn);
                    if (store_y) y_out[y_off + (size_t)m * lda + k] = a;
                }
            }
            As[kk][mm] = a;
        }
        for (int e = lid; e < BK * BN; e += LX * LY) {
            int kk = e / BN, nn = e % BN, k = k0 + kk, n = n0 + nn;
            Bs[kk][nn] = (k < k_end && n < N) ? B[(size_t)k * ldb + n] : 0.0f;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        int kn = min(BK, k_end - k0);
        for (int kk = 0; kk < kn; kk++) {
            float a[TM], b[TN];
            for (int i = 0; i < TM; i++) a[i] = As[kk][ty + i * LY];
            for (int j = 0; j < TN; j++) b[j] = Bs[kk][tx + j * LX];
            for (int i = 0; i < TM; i++)
                for (int j = 0; j < TN; j++) acc[i][j] = fma(a[i], b[j], acc[i][j]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    for (int i = 0; i < TM; i++) {
        int m = m0 + ty + i * LY;
        for (int j = 0; j < TN; j++) {
            int n = n0 + tx + j * LX;
            if (m >= M || n >= N) continue;
            float v = acc[i][j];
            if (epilogue == 1) v = clamp(v + bias[bias_off + n], 0.0f, 6.0f);
            else if (epilogue == 2) v += bias[bias_off + n];
            C[(size_t)m * ldc + n] = v;
        }
    }
    if (epilogue != 3) return;
    /* BatchNorm statistics of the tile, per column: sums over each work-item's rows in order,
     * then over the LY work-items in order (local memory); mean; the same for the squared
     * deviations. stats layout: mean [stats_rows][N], m2 [stats_rows][N], count [stats_rows]
     * with stats_rows >= the number of row tiles. */
    int rows = min(BM, M - m0);
    for (int j = 0; j < TN; j++) {
        float s = 0.0f;
        for (int i = 0; i < TM; i++)
            if (ty + i * LY < rows) s += acc[i][j];
        red[ty][tx + j * LX] = s;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int nn = lid; nn < BN; nn += LX * LY) {
        float s = 0.0f;
        for (int r = 0; r < LY; r++) s += red[r][nn];
        tile_mean[nn] = s / (float)rows;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int j = 0; j < TN; j++) {
        float mu = tile_mean[tx + j * LX], s = 0.0f;
        for (int i = 0; i < TM; i++)
            if (ty + i * LY < rows) {
                float d = acc[i][j] - mu;
                s = fma(d, d, s);
            }
        red[ty][tx + j * LX] = s;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    int t = get_group_id(1);
    for (int nn = lid; nn < BN; nn += LX * LY) {
        int n = n0 + nn;
        if (n >= N) continue;
        float s = 0.0f;
        for (int r = 0; r < LY; r++) s += red[r][nn];
        stats[(size_t)t * N + n] = tile_mean[nn];
        stats[((size_t)stats_rows + t) * N + n] = s;
    }
    if (lid == 0 && get_group_id(0) == 0) stats[(size_t)2 * stats_rows * N + t] = (float)rows;
}
