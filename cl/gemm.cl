/* Register-tiled SGEMM for CPU devices: C[M, N] = A[M, K] B[K, N], row-major, optionally
 * followed by y = clamp(y + bias[n], 0, 6) (BN folded into the weights, inference) or by
 * y + bias[n] (the classifier): argument `relu6` 1 or 2.
 *
 * Why not CLBlast here: on PoCL its indirect GEMM copies and pads the whole activation
 * matrix on every call, and its work-items are vectorised by PoCL rather than by the kernel,
 * which reaches 5-50 GFLOP/s on pointwise shapes. This kernel is written the way a CPU BLAS
 * micro-kernel is: one work-item owns a GEMM_TM x GEMM_TN tile (7 rows x 32 columns = 14 float16
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
 * the host reads too; the code below is written for 7 x 32. */
#define GEMM_TM MBN_GEMM_CPU_TM
#define GEMM_TN MBN_GEMM_CPU_TN
#if MBN_GEMM_CPU_TM != 7 || MBN_GEMM_CPU_TN != 32
#error "gemm_tiled is written for 7 x 32 tiles"
#endif

/* A[row, k] for either storage order. */
#define GEMM_A(row, k) (a_trans ? A[(size_t)(k) * lda + (row)] : A[(size_t)(row) * lda + (k)])

/* epilogue: 0 none, 1 bias + ReLU6 (folded BN), 2 bias only (the classifier) */
static inline float16 epilogue16(float16 v, __global const float *bias, int n, int epilogue) {
    if (epilogue == 0) return v;
    v += vload16(0, bias + n);
    return epilogue == 1 ? clamp(v, 0.0f, 6.0f) : v;
}

/* One k step of the TM x 32 tile: two B vectors, TM broadcasts of A (a0..a6 expressions of
 * kk), 2 TM FMAs. */
#define GEMM_STEP(kk, a0, a1, a2, a3, a4, a5, a6)                                                 \
    {                                                                                             \
        float16 b0 = vload16(0, Bp + (kk) * (size_t)ldb), b1 = vload16(1, Bp + (kk) * (size_t)ldb); \
        float a;                                                                                  \
        a = (a0); c00 = fma((float16)a, b0, c00); c01 = fma((float16)a, b1, c01);                 \
        a = (a1); c10 = fma((float16)a, b0, c10); c11 = fma((float16)a, b1, c11);                 \
        a = (a2); c20 = fma((float16)a, b0, c20); c21 = fma((float16)a, b1, c21);                 \
        a = (a3); c30 = fma((float16)a, b0, c30); c31 = fma((float16)a, b1, c31);                 \
        a = (a4); c40 = fma((float16)a, b0, c40); c41 = fma((float16)a, b1, c41);                 \
        a = (a5); c50 = fma((float16)a, b0, c50); c51 = fma((float16)a, b1, c51);                 \
        a = (a6); c60 = fma((float16)a, b0, c60); c61 = fma((float16)a, b1, c61);                 \
    }

/* The full TM x 32 tile: rows m0 .. m0 + TM - 1 (those past M - 1 repeat row M - 1; their
 * stores are masked). The k loop is the FMAs, two B loads and TM broadcasts with as little
 * else as possible, in three forms: A row-major with all rows present: one pointer per row
 * and k as the index; A transposed (weight gradients): the TM values are adjacent; otherwise
 * precomputed offsets. Two k steps per iteration halve the loop overhead. Every form sums
 * each output over k in order: the same bits for any tile shape. */
static void tile_full(__global const float *A, int lda, int a_trans, __global const float *Bt,
                      int ldb, __global float *C, int ldc, __global const float *bias,
                      int relu6, int m0, int n0, int M, int K, int first, int last) {
    float16 c00 = 0.0f, c01 = 0.0f, c10 = 0.0f, c11 = 0.0f, c20 = 0.0f, c21 = 0.0f;
    float16 c30 = 0.0f, c31 = 0.0f, c40 = 0.0f, c41 = 0.0f, c50 = 0.0f, c51 = 0.0f;
    float16 c60 = 0.0f, c61 = 0.0f;
    /* A later block of k continues the sums the earlier blocks stored in C (floats stored and
     * reloaded exactly: the same bits as one pass). */
    if (!first) {
#define LOAD_ROW(i, x0, x1)                                                                       \
    if (m0 + i < M) {                                                                             \
        x0 = vload16(0, C + (size_t)(m0 + i) * ldc + n0);                                         \
        x1 = vload16(0, C + (size_t)(m0 + i) * ldc + n0 + 16);                                    \
    }
        LOAD_ROW(0, c00, c01)
        LOAD_ROW(1, c10, c11)
        LOAD_ROW(2, c20, c21)
        LOAD_ROW(3, c30, c31)
        LOAD_ROW(4, c40, c41)
        LOAD_ROW(5, c50, c51)
        LOAD_ROW(6, c60, c61)
#undef LOAD_ROW
    }
    __global const float *Bp = Bt;
    int k = 0;
    if (!a_trans && m0 + GEMM_TM <= M) {
        /* One base pointer per row, indexed by k. min() is a no-op here (the tile is inside
         * M) but hides the rows' equal spacing from the compiler, which otherwise derives each
         * row's address from the previous one: a chain of dependent adds per k step. */
        size_t ld = (size_t)lda;
        int ml = M - 1;
        __global const float *r0 = A + (size_t)min(m0, ml) * ld;
        __global const float *r1 = A + (size_t)min(m0 + 1, ml) * ld;
        __global const float *r2 = A + (size_t)min(m0 + 2, ml) * ld;
        __global const float *r3 = A + (size_t)min(m0 + 3, ml) * ld;
        __global const float *r4 = A + (size_t)min(m0 + 4, ml) * ld;
        __global const float *r5 = A + (size_t)min(m0 + 5, ml) * ld;
        __global const float *r6 = A + (size_t)min(m0 + 6, ml) * ld;
        for (; k + 2 <= K; k += 2) {
            GEMM_STEP(0, r0[k], r1[k], r2[k], r3[k], r4[k], r5[k], r6[k])
            GEMM_STEP(1, r0[k + 1], r1[k + 1], r2[k + 1], r3[k + 1], r4[k + 1], r5[k + 1],
                      r6[k + 1])
            Bp += 2 * (size_t)ldb;
        }
        if (k < K) GEMM_STEP(0, r0[k], r1[k], r2[k], r3[k], r4[k], r5[k], r6[k])
    } else if (a_trans && m0 + GEMM_TM <= M) {
        size_t ld = (size_t)lda;
        __global const float *p = A + m0;
        for (; k + 2 <= K; k += 2) {
            GEMM_STEP(0, p[0], p[1], p[2], p[3], p[4], p[5], p[6])
            GEMM_STEP(1, p[ld], p[ld + 1], p[ld + 2], p[ld + 3], p[ld + 4], p[ld + 5], p[ld + 6])
            Bp += 2 * (size_t)ldb;
            p += 2 * ld;
        }
        if (k < K) GEMM_STEP(0, p[0], p[1], p[2], p[3], p[4], p[5], p[6])
    } else {
        size_t rs = a_trans ? 1 : (size_t)lda, ks = a_trans ? (size_t)lda : 1;
        size_t o0 = (size_t)min(m0 + 0, M - 1) * rs, o1 = (size_t)min(m0 + 1, M - 1) * rs;
        size_t o2 = (size_t)min(m0 + 2, M - 1) * rs, o3 = (size_t)min(m0 + 3, M - 1) * rs;
        size_t o4 = (size_t)min(m0 + 4, M - 1) * rs, o5 = (size_t)min(m0 + 5, M - 1) * rs;
        size_t o6 = (size_t)min(m0 + 6, M - 1) * rs;
        __global const float *Ak = A;
        for (; k < K; k++) {
            GEMM_STEP(0, Ak[o0], Ak[o1], Ak[o2], Ak[o3], Ak[o4], Ak[o5], Ak[o6])
            Bp += ldb;
            Ak += ks;
        }
    }
    int ep = last ? relu6 : 0; /* the epilogue once the sums are complete */
#define STORE_ROW(i, x0, x1)                                                                      \
    if (m0 + i < M) {                                                                             \
        vstore16(epilogue16(x0, bias, n0, ep), 0, C + (size_t)(m0 + i) * ldc + n0);              \
        vstore16(epilogue16(x1, bias, n0 + 16, ep), 0, C + (size_t)(m0 + i) * ldc + n0 + 16);    \
    }
    STORE_ROW(0, c00, c01)
    STORE_ROW(1, c10, c11)
    STORE_ROW(2, c20, c21)
    STORE_ROW(3, c30, c31)
    STORE_ROW(4, c40, c41)
    STORE_ROW(5, c50, c51)
    STORE_ROW(6, c60, c61)
#undef STORE_ROW
}
#undef GEMM_STEP

/* Narrow TM x W tiles (W = 16 or 8) for the columns left of N when N is not a multiple of 32
 * (width multipliers below 1; at 0.25 several layers have 8 or 16 channels in total): one
 * floatW accumulator per row, same summation order as tile_full. */
#define GEMM_NARROW_TILE(W)                                                                        \
    static void tile_w##W(__global const float *A, int lda, int a_trans,                           \
                          __global const float *Bt, int ldb, __global float *C, int ldc,           \
                          __global const float *bias, int relu6, int m0, int n0, int M, int K) {   \
        size_t rs = a_trans ? 1 : (size_t)lda, ks = a_trans ? (size_t)lda : 1;                     \
        size_t o0 = (size_t)min(m0 + 0, M - 1) * rs, o1 = (size_t)min(m0 + 1, M - 1) * rs;         \
        size_t o2 = (size_t)min(m0 + 2, M - 1) * rs, o3 = (size_t)min(m0 + 3, M - 1) * rs;         \
        size_t o4 = (size_t)min(m0 + 4, M - 1) * rs, o5 = (size_t)min(m0 + 5, M - 1) * rs;         \
        size_t o6 = (size_t)min(m0 + 6, M - 1) * rs;                                               \
        float##W c0 = 0.0f, c1 = 0.0f, c2 = 0.0f, c3 = 0.0f, c4 = 0.0f, c5 = 0.0f, c6 = 0.0f;      \
        __global const float *Bp = Bt, *Ak = A;                                                    \
        for (int k = 0; k < K; k++) {                                                              \
            float##W b = vload##W(0, Bp);                                                          \
            c0 = fma((float##W)Ak[o0], b, c0);                                                     \
            c1 = fma((float##W)Ak[o1], b, c1);                                                     \
            c2 = fma((float##W)Ak[o2], b, c2);                                                     \
            c3 = fma((float##W)Ak[o3], b, c3);                                                     \
            c4 = fma((float##W)Ak[o4], b, c4);                                                     \
            c5 = fma((float##W)Ak[o5], b, c5);                                                     \
            c6 = fma((float##W)Ak[o6], b, c6);                                                     \
            Bp += ldb;                                                                             \
            Ak += ks;                                                                              \
        }                                                                                          \
        float##W bv = relu6 ? vload##W(0, bias + n0) : (float##W)0.0f;                             \
        float##W rows[7] = {c0, c1, c2, c3, c4, c5, c6};                                           \
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
 * columns, all in the same summation order as tile_full. Bt points at column n0. */
static void tile_edge(__global const float *A, int lda, int a_trans, __global const float *Bt,
                      int ldb, __global float *C, int ldc, __global const float *bias,
                      int relu6, int m0, int n0, int M, int N, int K) {
    int j0 = n0;
    for (; N - n0 >= 16; n0 += 16)
        tile_w16(A, lda, a_trans, Bt + (n0 - j0), ldb, C, ldc, bias, relu6, m0, n0, M, K);
    for (; N - n0 >= 8; n0 += 8)
        tile_w8(A, lda, a_trans, Bt + (n0 - j0), ldb, C, ldc, bias, relu6, m0, n0, M, K);
    for (int i = 0; i < GEMM_TM && m0 + i < M; i++) {
        for (int j = n0; j < N; j++) {
            float acc = 0.0f;
            for (int k = 0; k < K; k++)
                acc = fma(GEMM_A(m0 + i, k), Bt[(size_t)k * ldb + (j - j0)], acc);
            if (relu6) acc += bias[j];
            if (relu6 == 1) acc = clamp(acc, 0.0f, 6.0f);
            C[(size_t)(m0 + i) * ldc + j] = acc;
        }
    }
}

/* B in packed panels (b_packed = 1, the forward weights on CPUs, made by pack_b32): the full
 * 32-column panels stored one after the other, each [K][32] contiguous, then the remaining
 * N % 32 columns as [K][N % 32]. A tile then streams K consecutive 128-byte rows. Row-major B
 * with ldb floats between rows puts successive k rows ldb * 4 bytes apart: at 512 and 1024
 * channels (2 and 4 KiB) they all fall into the same few L1 sets and evict each other.
 * packed_b_index: where B[k, n] is in that layout. */
static size_t packed_b_index(int k, int n, int K, int N) {
    int full = N / GEMM_TN * GEMM_TN;
    return n < full ? (size_t)(n / GEMM_TN) * K * GEMM_TN + (size_t)k * GEMM_TN + n % GEMM_TN
                    : (size_t)full * K + (size_t)k * (N - full) + (n - full);
}

/* The first element of the column tile at n0 (k = 0), and its row stride. */
static __global const float *b_tile(__global const float *B, int ldb, int b_packed, int n0,
                                    int N, int K, int *ldbt) {
    if (!b_packed) {
        *ldbt = ldb;
        return B + n0;
    }
    *ldbt = n0 < N / GEMM_TN * GEMM_TN ? GEMM_TN : N % GEMM_TN;
    return B + packed_b_index(0, n0, K, N);
}

/* dst = src[rows, cols] (pointwise weights [Cout, Cin]) as the packed B operand of gemm_tiled
 * for B[k, n] = src[n, k] (K = cols, N = rows): see b_tile. */
__kernel void pack_b32(__global const float *src, int s_off, __global float *dst, int d_off,
                       int rows, int cols) {
    int k = get_global_id(0);
    int n = get_global_id(1);
    if (k >= cols || n >= rows) return;
    dst[d_off + packed_b_index(k, n, cols, rows)] = src[s_off + (size_t)n * cols + k];
}

/* dst = the row-major B[K, N] (src, e.g. pointwise weights [Cout, Cin] for the input gradient
 * dx = dz w) as the packed B operand of gemm_tiled: see b_tile. */
__kernel void pack_b32_rows(__global const float *src, int s_off, __global float *dst, int d_off,
                            int K, int N) {
    int n = get_global_id(0);
    int k = get_global_id(1);
    if (n >= N || k >= K) return;
    dst[d_off + packed_b_index(k, n, K, N)] = src[s_off + (size_t)k * N + n];
}

/* A tile of one row (the last row of M when M % TM == 1: the classifier at batch 1, a weight
 * gradient of 64 rows): a TM-row tile would compute TM copies of it, each a chain of K
 * dependent FMAs. Here two full 32-column panels at a time (B0, B1; B1 = B0 and not stored
 * when !two): four independent chains. `a` is the row's first element, a_ks its k stride.
 * Each output is the same in-order sum over k as in tile_full: the same bits. */
static void tile_row1(__global const float *a, size_t a_ks, __global const float *B0,
                      __global const float *B1, int ldb, int two, __global float *c,
                      __global const float *bias, int relu6, int n0, int n1, int K) {
    float16 s00 = 0.0f, s01 = 0.0f, s10 = 0.0f, s11 = 0.0f;
    for (int k = 0; k < K; k++) {
        float16 av = (float16)a[(size_t)k * a_ks];
        size_t o = (size_t)k * ldb;
        s00 = fma(av, vload16(0, B0 + o), s00);
        s01 = fma(av, vload16(1, B0 + o), s01);
        s10 = fma(av, vload16(0, B1 + o), s10);
        s11 = fma(av, vload16(1, B1 + o), s11);
    }
    vstore16(epilogue16(s00, bias, n0, relu6), 0, c + n0);
    vstore16(epilogue16(s01, bias, n0 + 16, relu6), 0, c + n0 + 16);
    if (two) {
        vstore16(epilogue16(s10, bias, n1, relu6), 0, c + n1);
        vstore16(epilogue16(s11, bias, n1 + 16, relu6), 0, c + n1 + 16);
    }
}

/* Global size: dimension 0 = groups of `ctiles` column tiles of 32 columns, dimension 1 =
 * groups of `tiles` row tiles of TM rows, dimension 2 = chunks of k_chunk values of k (split
 * K, for weight gradients where K is the batch's pixel count): chunk p writes its partial
 * product to C + p * c_chunk; the host adds the chunks in order. A work-item visits its row
 * tiles in order and, for each, its column tiles: the TM rows of A are reused from L1 across
 * the column tiles while the ctiles B panels (K x 32 each) stay in L2. */
__kernel void gemm_tiled(__global const float *A, int a_off, int lda, int a_trans,
                         __global const float *B, int b_off, int ldb, __global float *C, int c_off,
                         int ldc, __global const float *bias, int bias_off, int relu6, int M,
                         int N, int K, int tiles, int k_chunk, int c_chunk, int ctiles,
                         int b_packed, int kc) {
    int nb = get_global_id(0) * ctiles * GEMM_TN;
    int t0 = get_global_id(1) * tiles;
    int p = get_global_id(2);
    if (nb >= N || p * k_chunk >= K) return;
    A += a_off + (size_t)p * k_chunk * (a_trans ? lda : 1);
    B += b_off + (size_t)p * k_chunk * ldb; /* split K: row-major B only (p = 0 when packed) */
    C += c_off + (size_t)p * c_chunk;
    int Kfull = K;
    K = min(k_chunk, K - p * k_chunk);
    bias += bias_off;
    if (kc <= 0) kc = K;
    size_t a_kstride = a_trans ? (size_t)lda : 1;
    int t1 = min(t0 + tiles, (M + GEMM_TM - 1) / GEMM_TM);
    /* A last tile of one row goes through tile_row1 for the full panels (below). */
    bool row1 = t1 > t0 && (t1 - 1) * GEMM_TM == M - 1;
    int tf = row1 ? t1 - 1 : t1;
    for (int j = 0; j < ctiles; j++) {
        int n0 = nb + j * GEMM_TN, ldbt;
        if (n0 >= N) break;
        __global const float *Bt = b_tile(B, ldb, b_packed, n0, N, Kfull, &ldbt);
        if (n0 + GEMM_TN > N) {
            for (int t = t0; t < t1; t++)
                tile_edge(A, lda, a_trans, Bt, ldbt, C, ldc, bias, relu6, t * GEMM_TM, n0, M, N, K);
            continue;
        }
        /* Blocks of kc values of k: the block of B (kc x 32 floats) stays in L1 while the run's
         * row tiles go by, instead of streaming the whole K x 32 panel from L2 for every tile. */
        for (int k0 = 0; k0 < K; k0 += kc) {
            int kl = min(kc, K - k0);
            for (int t = t0; t < tf; t++)
                tile_full(A + (size_t)k0 * a_kstride, lda, a_trans, Bt + (size_t)k0 * ldbt, ldbt,
                          C, ldc, bias, relu6, t * GEMM_TM, n0, M, kl, k0 == 0, k0 + kl == K);
        }
    }
    if (!row1) return;
    __global const float *a = A + (size_t)(M - 1) * (a_trans ? 1 : (size_t)lda);
    for (int j = 0; j < ctiles; j += 2) {
        int n0 = nb + j * GEMM_TN, n1 = n0 + GEMM_TN, ldbt, ldb1;
        if (n0 + GEMM_TN > N) break; /* the edge panel went through tile_edge above */
        int two = j + 1 < ctiles && n1 + GEMM_TN <= N;
        __global const float *B0 = b_tile(B, ldb, b_packed, n0, N, Kfull, &ldbt);
        __global const float *B1 = two ? b_tile(B, ldb, b_packed, n1, N, Kfull, &ldb1) : B0;
        tile_row1(a, a_kstride, B0, B1, ldbt, two, C + (size_t)(M - 1) * ldc, bias, relu6, n0,
                  n1, K);
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
