/* Register-tiled SGEMM for CPU devices: C[M, N] = A[M, K] B[K, N], row-major, optionally
 * followed by y = clamp(y + bias[n], 0, 6) (BN folded into the weights, inference) or by
 * y + bias[n] (the classifier): argument `relu6` 1 or 2.
 *
 * Why not CLBlast here: on PoCL its indirect GEMM copies and pads the whole activation
 * matrix on every call, and its work-items are vectorised by PoCL rather than by the kernel,
 * which reaches 5-50 GFLOP/s on pointwise shapes. This kernel is written the way a CPU BLAS
 * micro-kernel is: one work-item owns a GEMM_TM x GEMM_TN tile (6 rows x 32 columns = 12 float16
 * accumulators, which fit the 32 AVX-512 registers), streams k, broadcasts one A value per
 * row and loads two B vectors per step. Work-groups are one work-item (the host passes a local
 * size of 1), so PoCL does not try to vectorise across work-items; each work-item walks
 * `tiles` consecutive row tiles so that a column panel of B (K x 32) stays in cache while A
 * streams through.
 *
 * A is row-major [M, K] with stride lda (a_trans = 0) or stored transposed, [K, M] with stride
 * lda (a_trans = 1, used for weight gradients: dW = dY^T X). Each output is one in-order sum
 * over k by one work-item: deterministic on every device. Correct for any local size; fast
 * only on CPUs (GPUs use CLBlast, see model/ops.c). */

/* The tile comes from the kernel-variant table (host/variants.c, row gemm.cpu_tiled), which
 * the host reads too; the code below is written for 6 x 32. */
#define GEMM_TM MBN_GEMM_CPU_TM
#define GEMM_TN MBN_GEMM_CPU_TN
#if MBN_GEMM_CPU_TM != 6 || MBN_GEMM_CPU_TN != 32
#error "gemm_tiled is written for 6 x 32 tiles"
#endif

/* A[row, k] for either storage order. */
#define GEMM_A(row, k) (a_trans ? A[(size_t)(k) * lda + (row)] : A[(size_t)(row) * lda + (k)])

/* epilogue: 0 none, 1 bias + ReLU6 (folded BN), 2 bias only (the classifier) */
static inline float16 epilogue16(float16 v, __global const float *bias, int n, int epilogue) {
    if (epilogue == 0) return v;
    v += vload16(0, bias + n);
    return epilogue == 1 ? clamp(v, 0.0f, 6.0f) : v;
}

/* The full 6 x 32 tile: rows r[0..5] (clamped to M - 1 by the caller; stores are masked). */
static void tile_full(__global const float *A, int lda, int a_trans, __global const float *B,
                      int ldb, __global float *C, int ldc, __global const float *bias,
                      int relu6, int m0, int n0, int M, int K) {
    int r0 = min(m0 + 0, M - 1), r1 = min(m0 + 1, M - 1), r2 = min(m0 + 2, M - 1);
    int r3 = min(m0 + 3, M - 1), r4 = min(m0 + 4, M - 1), r5 = min(m0 + 5, M - 1);
    float16 c00 = 0.0f, c01 = 0.0f, c10 = 0.0f, c11 = 0.0f, c20 = 0.0f, c21 = 0.0f;
    float16 c30 = 0.0f, c31 = 0.0f, c40 = 0.0f, c41 = 0.0f, c50 = 0.0f, c51 = 0.0f;
    __global const float *Bp = B + n0;
    for (int k = 0; k < K; k++) {
        float16 b0 = vload16(0, Bp), b1 = vload16(1, Bp);
        Bp += ldb;
        float a;
        a = GEMM_A(r0, k); c00 = fma((float16)a, b0, c00); c01 = fma((float16)a, b1, c01);
        a = GEMM_A(r1, k); c10 = fma((float16)a, b0, c10); c11 = fma((float16)a, b1, c11);
        a = GEMM_A(r2, k); c20 = fma((float16)a, b0, c20); c21 = fma((float16)a, b1, c21);
        a = GEMM_A(r3, k); c30 = fma((float16)a, b0, c30); c31 = fma((float16)a, b1, c31);
        a = GEMM_A(r4, k); c40 = fma((float16)a, b0, c40); c41 = fma((float16)a, b1, c41);
        a = GEMM_A(r5, k); c50 = fma((float16)a, b0, c50); c51 = fma((float16)a, b1, c51);
    }
#define STORE_ROW(i, x0, x1)                                                                      \
    if (m0 + i < M) {                                                                             \
        vstore16(epilogue16(x0, bias, n0, relu6), 0, C + (size_t)(m0 + i) * ldc + n0);           \
        vstore16(epilogue16(x1, bias, n0 + 16, relu6), 0, C + (size_t)(m0 + i) * ldc + n0 + 16); \
    }
    STORE_ROW(0, c00, c01)
    STORE_ROW(1, c10, c11)
    STORE_ROW(2, c20, c21)
    STORE_ROW(3, c30, c31)
    STORE_ROW(4, c40, c41)
    STORE_ROW(5, c50, c51)
#undef STORE_ROW
}

/* Narrow 6 x W tiles (W = 16 or 8) for the columns left of N when N is not a multiple of 32
 * (width multipliers below 1; at 0.25 several layers have 8 or 16 channels in total): one
 * floatW accumulator per row, same summation order as tile_full. */
#define GEMM_NARROW_TILE(W)                                                                        \
    static void tile_w##W(__global const float *A, int lda, int a_trans,                           \
                          __global const float *B, int ldb, __global float *C, int ldc,            \
                          __global const float *bias, int relu6, int m0, int n0, int M, int K) {   \
        int r0 = min(m0 + 0, M - 1), r1 = min(m0 + 1, M - 1), r2 = min(m0 + 2, M - 1);             \
        int r3 = min(m0 + 3, M - 1), r4 = min(m0 + 4, M - 1), r5 = min(m0 + 5, M - 1);             \
        float##W c0 = 0.0f, c1 = 0.0f, c2 = 0.0f, c3 = 0.0f, c4 = 0.0f, c5 = 0.0f;                 \
        __global const float *Bp = B + n0;                                                         \
        for (int k = 0; k < K; k++) {                                                              \
            float##W b = vload##W(0, Bp);                                                          \
            Bp += ldb;                                                                             \
            c0 = fma((float##W)GEMM_A(r0, k), b, c0);                                              \
            c1 = fma((float##W)GEMM_A(r1, k), b, c1);                                              \
            c2 = fma((float##W)GEMM_A(r2, k), b, c2);                                              \
            c3 = fma((float##W)GEMM_A(r3, k), b, c3);                                              \
            c4 = fma((float##W)GEMM_A(r4, k), b, c4);                                              \
            c5 = fma((float##W)GEMM_A(r5, k), b, c5);                                              \
        }                                                                                          \
        float##W bv = relu6 ? vload##W(0, bias + n0) : (float##W)0.0f;                             \
        float##W rows[6] = {c0, c1, c2, c3, c4, c5};                                               \
        for (int i = 0; i < GEMM_TM && m0 + i < M; i++) {                                          \
            float##W v = rows[i];                                                                  \
            if (relu6) v += bv;                                                                    \
            if (relu6 == 1) v = clamp(v, 0.0f, 6.0f);                                              \
            vstore##W(v, 0, C + (size_t)(m0 + i) * ldc + n0);                                      \
        }                                                                                          \
    }
GEMM_NARROW_TILE(16)
GEMM_NARROW_TILE(8)
#undef GEMM_NARROW_TILE

/* The last column tile when N is not a multiple of 32: 16- and 8-wide tiles, then scalar
 * columns, all in the same summation order as tile_full. */
static void tile_edge(__global const float *A, int lda, int a_trans, __global const float *B,
                      int ldb, __global float *C, int ldc, __global const float *bias,
                      int relu6, int m0, int n0, int M, int N, int K) {
    for (; N - n0 >= 16; n0 += 16)
        tile_w16(A, lda, a_trans, B, ldb, C, ldc, bias, relu6, m0, n0, M, K);
    for (; N - n0 >= 8; n0 += 8)
        tile_w8(A, lda, a_trans, B, ldb, C, ldc, bias, relu6, m0, n0, M, K);
    for (int i = 0; i < GEMM_TM && m0 + i < M; i++) {
        for (int j = n0; j < N; j++) {
            float acc = 0.0f;
            for (int k = 0; k < K; k++) acc = fma(GEMM_A(m0 + i, k), B[(size_t)k * ldb + j], acc);
            if (relu6) acc += bias[j];
            if (relu6 == 1) acc = clamp(acc, 0.0f, 6.0f);
            C[(size_t)(m0 + i) * ldc + j] = acc;
        }
    }
}

/* Global size: dimension 0 = groups of `ctiles` column tiles of 32 columns, dimension 1 =
 * groups of `tiles` row tiles of 6 rows, dimension 2 = chunks of k_chunk values of k (split
 * K, for weight gradients where K is the batch's pixel count): chunk p writes its partial
 * product to C + p * c_chunk; the host adds the chunks in order. A work-item visits its row
 * tiles in order and, for each, its column tiles: the 6 rows of A are reused from L1 across
 * the column tiles while the ctiles B panels (K x 32 each) stay in L2. */
__kernel void gemm_tiled(__global const float *A, int a_off, int lda, int a_trans,
                         __global const float *B, int b_off, int ldb, __global float *C, int c_off,
                         int ldc, __global const float *bias, int bias_off, int relu6, int M,
                         int N, int K, int tiles, int k_chunk, int c_chunk, int ctiles) {
    int nb = get_global_id(0) * ctiles * GEMM_TN;
    int t0 = get_global_id(1) * tiles;
    int p = get_global_id(2);
    if (nb >= N || p * k_chunk >= K) return;
    A += a_off + (size_t)p * k_chunk * (a_trans ? lda : 1);
    B += b_off + (size_t)p * k_chunk * ldb;
    C += c_off + (size_t)p * c_chunk;
    K = min(k_chunk, K - p * k_chunk);
    bias += bias_off;
    for (int t = t0; t < t0 + tiles; t++) {
        int m0 = t * GEMM_TM;
        if (m0 >= M) return;
        for (int j = 0; j < ctiles; j++) {
            int n0 = nb + j * GEMM_TN;
            if (n0 >= N) break;
            if (n0 + GEMM_TN <= N)
                tile_full(A, lda, a_trans, B, ldb, C, ldc, bias, relu6, m0, n0, M, K);
            else
                tile_edge(A, lda, a_trans, B, ldb, C, ldc, bias, relu6, m0, n0, M, N, K);
        }
    }
}

/* dst[c, r] = src[r, c] for a [rows, cols] matrix: pointwise weights [Cout, Cin] become the
 * [Cin, Cout] B operand of gemm_tiled. */
__kernel void transpose(__global const float *src, int s_off, __global float *dst, int d_off,
                        int rows, int cols) {
    int c = get_global_id(0);
    int r = get_global_id(1);
    if (c >= cols || r >= rows) return;
    dst[d_off + (size_t)c * rows + r] = src[s_off + (size_t)r * cols + c];
}

/* The same transpose for rows and cols both multiples of 8: a work-item moves one 8 x 8 block
 * with vector loads and stores (the per-element version is bound by PoCL's scheduling). */
__kernel void transpose8(__global const float *src, int s_off, __global float *dst, int d_off,
                         int rows, int cols) {
    int c = get_global_id(0) * 8;
    int r = get_global_id(1) * 8;
    if (c >= cols || r >= rows) return;
    float b[64];
    for (int i = 0; i < 8; i++)
        vstore8(vload8(0, src + s_off + (size_t)(r + i) * cols + c), 0, b + i * 8);
    for (int j = 0; j < 8; j++)
        vstore8((float8)(b[j], b[8 + j], b[16 + j], b[24 + j], b[32 + j], b[40 + j], b[48 + j],
                         b[56 + j]),
                0, dst + d_off + (size_t)(c + j) * rows + r);
}
