/* Register-tiled SGEMM for CPU devices: C[M, N] = A[M, K] B[K, N], row-major, optionally
 * followed by y = clamp(y + bias[n], 0, 6) (BN folded into the weights, inference) or by
 * y + bias[n] (the classifier): argument `relu6` 1 or 2.
 *
 * Why not CLBlast here: on PoCL its indirect GEMM copies and pads the whole activation
 * matrix on every call, and its work-items are vectorised by PoCL rather than by the kernel,
 * which reaches 5-50 GFLOP/s on pointwise shapes. This kernel is written the way a CPU BLAS
 * micro-kernel is: one work-item owns a GEMM_TM x GEMM_TN tile (TM rows x two SIMD vectors of
 * columns: on AVX-512 7 x 32 = 14 float16 accumulators of the 32 registers, on AVX2 6 x 16 =
 * 12 float8 of 16), streams k, broadcasts one A value per row and loads two B vectors per
 * step. Work-groups are one work-item (the host passes a local size of 1), so PoCL does not
 * try to vectorise across work-items; each work-item walks `tiles` consecutive row tiles so
 * that a column panel of B (K x TN) stays in cache while A streams through.
 *
 * A is row-major [M, K] with stride lda (a_trans = 0) or stored transposed, [K, M] with stride
 * lda (a_trans = 1, used for weight gradients: dW = dY^T X). Each output is one in-order sum
 * over k by one work-item: deterministic on every device. Correct for any local size; fast
 * only on CPUs (GPUs use CLBlast, see model/ops.c). */

/* A[row, k] for either storage order. */
#define GEMM_A(row, k) (a_trans ? A[(size_t)(k) * lda + (row)] : A[(size_t)(row) * lda + (k)])

/* epilogue: 0 none, 1 bias + ReLU6 (folded BN), 2 bias only (the classifier) */
static inline VF epilogue_v(VF v, __global const float *bias, int n, int epilogue) {
    if (epilogue == 0) return v;
    v += VLOAD(0, bias + n);
    return epilogue == 1 ? clamp(v, 0.0f, 6.0f) : v;
}

/* Row i's A value in each loop form of tile_full (k, p, ld, Ak and the r<i>, o<i> there). */
#define AX_ROWS_K0(i) r##i[k]
#define AX_ROWS_K1(i) r##i[k + 1]
#define AX_TRANS_K0(i) p[i]
#define AX_TRANS_K1(i) p[ld + i]
#define AX_OFFSETS(i) Ak[o##i]

#define GEMM_LOAD_ACC(i, _)                                                                        \
    if (m0 + i < M) {                                                                              \
        c##i##0 = VLOAD(0, C + (size_t)(m0 + i) * ldc + n0);                                       \
        c##i##1 = VLOAD(1, C + (size_t)(m0 + i) * ldc + n0);                                       \
    }
#define GEMM_STORE_ACC(i, _)                                                                       \
    if (m0 + i < M) {                                                                              \
        VSTORE(epilogue_v(c##i##0, bias, n0, ep), 0, C + (size_t)(m0 + i) * ldc + n0);             \
        VSTORE(epilogue_v(c##i##1, bias, n0 + MBN_CPU_VEC, ep), 1,                                 \
               C + (size_t)(m0 + i) * ldc + n0);                                                   \
    }
/* One base pointer per row, indexed by k. min() is a no-op here (the tile is inside M) but
 * hides the rows' equal spacing from the compiler, which otherwise derives each row's address
 * from the previous one: a chain of dependent adds per k step. */
#define GEMM_ROW_PTR(i, _) __global const float *r##i = A + (size_t)min(m0 + i, ml) * ld;
#define GEMM_ROW_OFF(i, _) size_t o##i = (size_t)min(m0 + i, M - 1) * rs;

/* The full TM x TN tile: rows m0 .. m0 + TM - 1 (those past M - 1 repeat row M - 1; their
 * stores are masked). The k loop is the FMAs, two B loads and TM broadcasts with as little
 * else as possible, in three forms: A row-major with all rows present: one pointer per row
 * and k as the index; A transposed (weight gradients): the TM values are adjacent; otherwise
 * precomputed offsets. Two k steps per iteration halve the loop overhead. Every form sums
 * each output over k in order: the same bits for any tile shape and vector width. */
static void tile_full(__global const float *A, int lda, int a_trans, __global const float *Bt,
                      int ldb, __global float *C, int ldc, __global const float *bias,
                      int relu6, int m0, int n0, int M, int K, int first, int last) {
    FOR_ROWS(GEMM_DECL_ACC, 0)
    /* A later block of k continues the sums the earlier blocks stored in C (floats stored and
     * reloaded exactly: the same bits as one pass). */
    if (!first) {
        FOR_ROWS(GEMM_LOAD_ACC, 0)
    }
    __global const float *Bp = Bt;
    int k = 0;
    if (!a_trans && m0 + GEMM_TM <= M) {
        size_t ld = (size_t)lda;
        int ml = M - 1;
        FOR_ROWS(GEMM_ROW_PTR, 0)
        for (; k + 2 <= K; k += 2) {
            GEMM_STEP(0, AX_ROWS_K0)
            GEMM_STEP(1, AX_ROWS_K1)
            Bp += 2 * (size_t)ldb;
        }
        if (k < K) GEMM_STEP(0, AX_ROWS_K0)
    } else if (a_trans && m0 + GEMM_TM <= M) {
        size_t ld = (size_t)lda;
        __global const float *p = A + m0;
        for (; k + 2 <= K; k += 2) {
            GEMM_STEP(0, AX_TRANS_K0)
            GEMM_STEP(1, AX_TRANS_K1)
            Bp += 2 * (size_t)ldb;
            p += 2 * ld;
        }
        if (k < K) GEMM_STEP(0, AX_TRANS_K0)
    } else {
        size_t rs = a_trans ? 1 : (size_t)lda, ks = a_trans ? (size_t)lda : 1;
        FOR_ROWS(GEMM_ROW_OFF, 0)
        __global const float *Ak = A;
        for (; k < K; k++) {
            GEMM_STEP(0, AX_OFFSETS)
            Bp += ldb;
            Ak += ks;
        }
    }
    int ep = last ? relu6 : 0; /* the epilogue once the sums are complete */
    FOR_ROWS(GEMM_STORE_ACC, 0)
}

/* Narrow TM x W tiles (W = one vector, then half of one) for the columns left of N when N is
 * not a multiple of TN (width multipliers below 1; at 0.25 several layers have 8 or 16
 * channels in total): one W-wide accumulator per row, same summation order as tile_full. */
#define NARROW_DECL(i, W) MBN_CAT(float, W) c##i = 0.0f;
#define NARROW_FMA(i, W) c##i = fma((MBN_CAT(float, W))Ak[o##i], b, c##i);
#define NARROW_STORE(i, W)                                                                         \
    if (m0 + i < M) {                                                                              \
        MBN_CAT(float, W) v = c##i;                                                                \
        if (relu6) v += bv;                                                                        \
        if (relu6 == 1) v = clamp(v, 0.0f, 6.0f);                                                  \
        MBN_CAT(vstore, W)(v, 0, C + (size_t)(m0 + i) * ldc + n0);                                 \
    }
#define GEMM_NARROW_TILE(NAME, W)                                                                  \
    static void NAME(__global const float *A, int lda, int a_trans, __global const float *Bt,     \
                     int ldb, __global float *C, int ldc, __global const float *bias, int relu6,   \
                     int m0, int n0, int M, int K) {                                               \
        size_t rs = a_trans ? 1 : (size_t)lda, ks = a_trans ? (size_t)lda : 1;                     \
        FOR_ROWS(GEMM_ROW_OFF, 0)                                                                  \
        FOR_ROWS(NARROW_DECL, W)                                                                   \
        __global const float *Bp = Bt, *Ak = A;                                                    \
        for (int k = 0; k < K; k++) {                                                              \
            MBN_CAT(float, W) b = MBN_CAT(vload, W)(0, Bp);                                        \
            FOR_ROWS(NARROW_FMA, W)                                                                \
            Bp += ldb;                                                                             \
            Ak += ks;                                                                              \
        }                                                                                          \
        MBN_CAT(float, W) bv = relu6 ? MBN_CAT(vload, W)(0, bias + n0) : (MBN_CAT(float, W))0.0f;  \
        FOR_ROWS(NARROW_STORE, W)                                                                  \
    }
GEMM_NARROW_TILE(tile_narrow_vec, MBN_CPU_VEC)
#ifdef MBN_CPU_HALF
GEMM_NARROW_TILE(tile_narrow_half, MBN_CPU_HALF)
#endif
#undef GEMM_NARROW_TILE

/* The last column tile when N is not a multiple of TN: one-vector and half-vector tiles, then
 * scalar columns, all in the same summation order as tile_full. Bt points at column n0. */
static void tile_edge(__global const float *A, int lda, int a_trans, __global const float *Bt,
                      int ldb, __global float *C, int ldc, __global const float *bias,
                      int relu6, int m0, int n0, int M, int N, int K) {
    int j0 = n0;
    for (; N - n0 >= MBN_CPU_VEC; n0 += MBN_CPU_VEC)
        tile_narrow_vec(A, lda, a_trans, Bt + (n0 - j0), ldb, C, ldc, bias, relu6, m0, n0, M, K);
#ifdef MBN_CPU_HALF
    for (; N - n0 >= MBN_CPU_HALF; n0 += MBN_CPU_HALF)
        tile_narrow_half(A, lda, a_trans, Bt + (n0 - j0), ldb, C, ldc, bias, relu6, m0, n0, M, K);
#endif
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

/* B in packed panels (b_packed = 1, the forward weights on CPUs, made by pack_b_panels): the full
 * TN-column panels stored one after the other, each [K][TN] contiguous, then the remaining
 * N % TN columns as [K][N % TN]. A tile then streams K consecutive rows of TN floats. Row-major B
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
__kernel void pack_b_panels(__global const float *src, int s_off, __global float *dst, int d_off,
                       int rows, int cols) {
    int k = get_global_id(0);
    int n = get_global_id(1);
    if (k >= cols || n >= rows) return;
    dst[d_off + packed_b_index(k, n, cols, rows)] = src[s_off + (size_t)n * cols + k];
}

/* dst = the row-major B[K, N] (src, e.g. pointwise weights [Cout, Cin] for the input gradient
 * dx = dz w) as the packed B operand of gemm_tiled: see b_tile. */
__kernel void pack_b_panels_rows(__global const float *src, int s_off, __global float *dst, int d_off,
                            int K, int N) {
    int n = get_global_id(0);
    int k = get_global_id(1);
    if (n >= N || k >= K) return;
    dst[d_off + packed_b_index(k, n, K, N)] = src[s_off + (size_t)k * N + n];
}

/* A tile of one row (the last row of M when M % TM == 1: the classifier at batch 1, a weight
 * gradient of 64 rows): a TM-row tile would compute TM copies of it, each a chain of K
 * dependent FMAs. Here two full TN-column panels at a time (B0, B1; B1 = B0 and not stored
 * when !two): four independent chains. `a` is the row's first element, a_ks its k stride.
 * Each output is the same in-order sum over k as in tile_full: the same bits. */
static void tile_row1(__global const float *a, size_t a_ks, __global const float *B0,
                      __global const float *B1, int ldb, int two, __global float *c,
                      __global const float *bias, int relu6, int n0, int n1, int K) {
    VF s00 = 0.0f, s01 = 0.0f, s10 = 0.0f, s11 = 0.0f;
    for (int k = 0; k < K; k++) {
        VF av = (VF)a[(size_t)k * a_ks];
        size_t o = (size_t)k * ldb;
        s00 = fma(av, VLOAD(0, B0 + o), s00);
        s01 = fma(av, VLOAD(1, B0 + o), s01);
        s10 = fma(av, VLOAD(0, B1 + o), s10);
        s11 = fma(av, VLOAD(1, B1 + o), s11);
    }
    VSTORE(epilogue_v(s00, bias, n0, relu6), 0, c + n0);
    VSTORE(epilogue_v(s01, bias, n0 + MBN_CPU_VEC, relu6), 1, c + n0);
    if (two) {
        VSTORE(epilogue_v(s10, bias, n1, relu6), 0, c + n1);
        VSTORE(epilogue_v(s11, bias, n1 + MBN_CPU_VEC, relu6), 1, c + n1);
    }
}

/* Global size: dimension 0 = groups of `ctiles` column tiles of TN columns, dimension 1 =
 * groups of `tiles` row tiles of TM rows, dimension 2 = chunks of k_chunk values of k (split
 * K, for weight gradients where K is the batch's pixel count): chunk p writes its partial
 * product to C + p * c_chunk; the host adds the chunks in order. A work-item visits its row
 * tiles in order and, for each, its column tiles: the TM rows of A are reused from L1 across
 * the column tiles while the ctiles B panels (K x TN each) stay in L2. */
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
        /* Blocks of kc values of k: the block of B (kc x TN floats) stays in L1 while the run's
         * row tiles go by, instead of streaming the whole K x TN panel from L2 for every tile. */
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
 * with vector loads and stores (the per-element version is bound by PoCL's scheduling), in
 * float4 halves: the narrowest SIMD register of any device (a float8 spans two on SSE). */
__kernel void transpose8(__global const float *src, int s_off, __global float *dst, int d_off,
                         int rows, int cols) {
    int c = get_global_id(0) * 8;
    int r = get_global_id(1) * 8;
    if (c >= cols || r >= rows) return;
    float b[64];
    for (int i = 0; i < 8; i++) {
        __global const float *s = src + s_off + (size_t)(r + i) * cols + c;
        vstore4(vload4(0, s), 0, b + i * 8);
        vstore4(vload4(1, s), 1, b + i * 8);
    }
    for (int j = 0; j < 8; j++) {
        __global float *d = dst + d_off + (size_t)(c + j) * rows + r;
        vstore4((float4)(b[j], b[8 + j], b[16 + j], b[24 + j]), 0, d);
        vstore4((float4)(b[32 + j], b[40 + j], b[48 + j], b[56 + j]), 1, d);
    }
}
