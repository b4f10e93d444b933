/* GEMMs (cl/gemm.cl or CLBlast, per the device's gemm variant): the pointwise convolutions,
 * the stem's and the classifier's products, and the split-K weight gradients (gemm_wgrad). */
#include "model/ops_internal.h"

#include "host/blas.h"

/* Split-K weight gradients keep P partial products of Cout x K floats with P x K <=
 * MBN_OPS_MAX_PARTIALS * 9 (K = Cin, or 27 for the stem), so Cout x K x P fits below for
 * C = Cout. */
size_t mbn_ops_gemm_scratch(size_t M, int C) {
    (void)M;
    return (size_t)MBN_OPS_MAX_PARTIALS * 9 * (size_t)C;
}

/* ---- cpu: gemm.cl's register-tiled kernel ---- */

/* C[M, N] = op(A) B (+ epilogue) with gemm_tiled. Each work-item walks a run of row tiles of a
 * group of column tiles; runs are sized for RUN work-items, enough to balance the cores while
 * keeping B panels hot in cache, but a run has at least MIN_RUN row tiles while that leaves two
 * work-items per compute unit: every tile of a run reuses the run's block of B from L1, and at
 * batch 1 (196 or 49 rows) RUN alone cut the layers into single tiles that each streamed their
 * B panel from L2 (1.2x slower). Runs are then evened out (9 tiles: 5 + 4, not 8 + 1). */
/* Row tiles per work-item (*tiles) and runs (*runs) for row_tiles row tiles and col_groups
 * groups of column tiles: see gemm_cpu. */
static void cpu_runs(MbnDevice *d, const MbnVariantChoice *v, size_t row_tiles, size_t col_groups,
                     size_t *tiles_out, size_t *runs_out) {
    size_t run = (size_t)mbn_vparam(v, "RUN");
    size_t tiles = (row_tiles * col_groups + run - 1) / run;
    size_t cus = d->info.compute_units ? d->info.compute_units : 1;
    size_t min_run = (size_t)mbn_vparam(v, "MIN_RUN"), most = row_tiles * col_groups / (2 * cus);
    if (min_run > most) min_run = most;
    if (tiles < min_run) tiles = min_run;
    if (tiles > row_tiles) tiles = row_tiles;
    if (tiles < 1) tiles = 1;
    size_t runs = (row_tiles + tiles - 1) / tiles;
    *tiles_out = (row_tiles + runs - 1) / runs;
    *runs_out = runs;
}

static int gemm_cpu(MbnDevice *d, const MbnVariantChoice *v, MbnBuf a, size_t lda, bool a_trans,
                    MbnBuf b, size_t ldb, bool b_packed, MbnBuf c, size_t ldc, MbnBuf bias,
                    MbnEpilogue ep, size_t M, size_t N, size_t K) {
    size_t TM = (size_t)mbn_vparam(v, "TM"), TN = (size_t)mbn_vparam(v, "TN");
    size_t row_tiles = (M + TM - 1) / TM, col_tiles = (N + TN - 1) / TN;
    /* Column tiles per work-item: as many B panels (K x TN floats) as fit in PANEL_FLOATS. */
    size_t ctiles = (size_t)mbn_vparam(v, "PANEL_FLOATS") / ((K ? K : 1) * TN);
    if (ctiles < 1) ctiles = 1;
    if (ctiles > col_tiles) ctiles = col_tiles;
    size_t col_groups = (col_tiles + ctiles - 1) / ctiles, tiles, runs;
    cpu_runs(d, v, row_tiles, col_groups, &tiles, &runs);
    size_t g[3] = {col_groups, runs, 1}, l[3] = {1, 1, 1};
    cl_mem bm = bias.mem ? bias.mem : b.mem; /* any valid buffer when unused */
    return MBN_LAUNCH(d, MBN_K_gemm_tiled, 3, g, l, MEM(a), OFF(a), I(lda), I(a_trans), MEM(b),
                      OFF(b), I(ldb), MEM(c), OFF(c), I(ldc), KMEM(bm), OFF(bias),
                      I(bias.mem ? ep : MBN_EP_NONE), I(M), I(N), I(K), I(tiles), I(K), I(0),
                      I(ctiles), I(b_packed), I(mbn_vparam_or(v, "KC", 0)));
}

/* Split-K chunk count for the tiled weight gradient: KC_MIN rows of K a chunk at least, and
 * P x Cout x Cin partials within mbn_ops_gemm_scratch. */
static size_t wgrad_chunks(const MbnVariantChoice *v, size_t M, int Cin) {
    size_t P = M / (size_t)mbn_vparam(v, "KC_MIN");
    size_t cap = (size_t)MBN_OPS_MAX_PARTIALS * 9 / (size_t)Cin;
    if (P > cap) P = cap;
    if (P > MBN_OPS_MAX_PARTIALS) P = MBN_OPS_MAX_PARTIALS;
    return P < 1 ? 1 : P;
}

/* dw[Cout, Cin] = dy^T x over K = M pixel rows, split into P chunks of K: each work-item sweeps
 * every row tile of dw for its chunk, so the chunk of dy and x stays in cache; the chunks are
 * then added in order. With `work` (M x Cout floats that may be overwritten), dy is first
 * transposed into it ([Cout, M], 8x8 blocks): the kernel then streams 6 contiguous rows of dy^T
 * instead of gathering 6 floats from rows Cout floats apart, which made this GEMM 2.7x slower
 * than the input-gradient GEMM of the same size. Each output is one in-order sum per chunk, so
 * the bits depend on P only. */
static int wgrad_cpu(MbnDevice *d, const MbnVariantChoice *v, MbnBuf x, MbnBuf dy, MbnBuf dw,
                     size_t M, int Cin, int Cout, MbnBuf scratch, MbnBuf work) {
    MbnBuf a = dy;
    size_t lda = (size_t)Cout;
    int a_trans = 1;
    if (work.mem && mbn_vparam(v, "TRANSPOSE") && M % 8 == 0 && Cout % 8 == 0) {
        size_t gt[2] = {(size_t)Cout / 8, M / 8};
        MBN_TRY(MBN_LAUNCH(d, MBN_K_transpose8, 2, gt, NULL, MEM(dy), OFF(dy), MEM(work), OFF(work),
                           I(M), I(Cout)));
        a = work, lda = M, a_trans = 0;
    }
    size_t P = wgrad_chunks(v, M, Cin);
    size_t TM = (size_t)mbn_vparam(v, "TM"), TN = (size_t)mbn_vparam(v, "TN");
    size_t kc = (M + P - 1) / P, n_out = (size_t)Cout * Cin;
    P = (M + kc - 1) / kc;
    size_t row_tiles = ((size_t)Cout + TM - 1) / TM;
    size_t g[3] = {((size_t)Cin + TN - 1) / TN, 1, P}, l[3] = {1, 1, 1};
    MbnBuf out = P > 1 ? scratch : dw;
    MBN_TRY(MBN_LAUNCH(d, MBN_K_gemm_tiled, 3, g, l, MEM(a), OFF(a), I(lda), I(a_trans), MEM(x),
                       OFF(x), I(Cin), MEM(out), OFF(out), I(Cin), MEM(dw), I(0), I(0), I(Cout),
                       I(Cin), I(M), I(row_tiles), I(kc), I(n_out), I(1), I(0),
                       I(mbn_vparam_or(v, "KC", 0))));
    if (P == 1) return MBN_OK;
    size_t g2[1] = {n_out};
    return MBN_LAUNCH(d, MBN_K_channel_reduce_rows, 1, g2, NULL, MEM(scratch), I(P), I(n_out),
                      KFLT(1.0f), MEM(dw), OFF(dw));
}

/* ---- gpu: gemm_gpu (cl/gemm_gpu.cl), local-memory tiles ---- */

typedef struct {
    const MbnBnApply *bn_in; /* BN + ReLU6 applied to A as it is loaded, or NULL */
    MbnBuf stats;            /* statistics epilogue output (MBN_EP_STATS) */
    size_t k_chunk, chunks;  /* split K: chunks of k_chunk, partials c_chunk floats apart */
    size_t c_chunk;
} GpuGemmExtra;

static int gemm_gpu(MbnDevice *d, const MbnVariantChoice *v, MbnBuf a, size_t lda, bool a_trans,
                    MbnBuf b, size_t ldb, MbnBuf c, size_t ldc, MbnBuf bias, MbnEpilogue ep,
                    size_t M, size_t N, size_t K, const GpuGemmExtra *x) {
    size_t BM = (size_t)mbn_vparam(v, "BM"), BN = (size_t)mbn_vparam(v, "BN");
    size_t LX = BN / (size_t)mbn_vparam(v, "TN"), LY = BM / (size_t)mbn_vparam(v, "TM");
    size_t chunks = x && x->chunks ? x->chunks : 1, k_chunk = x && x->chunks ? x->k_chunk : K;
    size_t c_chunk = x ? x->c_chunk : 0;
    size_t g[3] = {(N + BN - 1) / BN * LX, (M + BM - 1) / BM * LY, chunks}, l[3] = {LX, LY, 1};
    MbnBuf any = b; /* any valid buffer for arguments a launch does not use */
    MbnBnApply none = {any, any, any, any, any};
    const MbnBnApply *bn = x && x->bn_in ? x->bn_in : &none;
    MbnBuf bs = bias.mem ? bias : any, st = x && x->stats.mem ? x->stats : any;
    int epilogue = ep == MBN_EP_STATS || bias.mem ? (int)ep : 0;
    return MBN_LAUNCH(d, MBN_K_gemm_gpu, 3, g, l, MEM(a), OFF(a), I(lda), I(a_trans), MEM(b),
                      OFF(b), I(ldb), MEM(c), OFF(c), I(ldc), I(M), I(N), I(K), I(k_chunk),
                      I(c_chunk), MEM(bs), OFF(bs), I(epilogue), I(bn != &none), MEM(bn->gamma),
                      OFF(bn->gamma), MEM(bn->beta), OFF(bn->beta), MEM(bn->mean), MEM(bn->invstd),
                      OFF(bn->mean), MEM(bn->y), OFF(bn->y), MEM(st), I((M + BM - 1) / BM));
}

int mbn_op_pw_fwd_train(MbnDevice *d, MbnBuf x, const MbnBnApply *in, MbnBuf wt, MbnBuf z, size_t M,
                        int Cin, int Cout, MbnBuf stats) {
    const MbnVariantChoice *v = &d->variants.op[MBN_OP_GEMM];
    if (v->row->family != MBN_FAMILY_GPU)
        return mbn_fail(MBN_EFAIL, "pw_fwd_train: needs the gpu GEMM row, not %s", v->row->name);
    MBN_TRY(mbn_ops_need_scratch(stats,
                                 mbn_ops_bn_stats_floats(mbn_ops_gemm_stats_rows(d, M), Cout),
                                 "pointwise statistics"));
    GpuGemmExtra extra = {in, stats, 0, 0, 0};
    return gemm_gpu(d, v, x, (size_t)Cin, false, wt, (size_t)Cout, z, (size_t)Cout, MBN_NOBUF,
                    MBN_EP_STATS, M, (size_t)Cout, (size_t)Cin, &extra);
}

/* Split-K weight gradient on the gpu kernel: as many chunks of at least SPLIT_ROWS rows as
 * SPLIT_MAX and the scratch allow (a function of the shapes, the row and the scratch size), one
 * launch, then the chunks added in order. */
static int wgrad_gpu(MbnDevice *d, const MbnVariantChoice *v, MbnBuf x, MbnBuf dy, MbnBuf dw,
                     size_t M, int K, int Cout, MbnBuf scratch) {
    size_t outs = (size_t)Cout * (size_t)K, scratch_bytes = 0;
    clGetMemObjectInfo(scratch.mem, CL_MEM_SIZE, sizeof scratch_bytes, &scratch_bytes, NULL);
    size_t room = scratch_bytes / sizeof(float) / outs;
    size_t P = M / (size_t)mbn_vparam(v, "SPLIT_ROWS"), pmax = (size_t)mbn_vparam(v, "SPLIT_MAX");
    if (P > pmax) P = pmax;
    if (P > room) P = room;
    if (P < 1) P = 1;
    size_t kc = (M + P - 1) / P;
    P = (M + kc - 1) / kc;
    GpuGemmExtra extra = {NULL, MBN_NOBUF, kc, P, outs};
    MbnBuf out = P > 1 ? scratch : dw;
    MBN_TRY(gemm_gpu(d, v, dy, (size_t)Cout, true, x, (size_t)K, out, (size_t)K, MBN_NOBUF,
                     MBN_EP_NONE, (size_t)Cout, (size_t)K, M, &extra));
    if (P == 1) return MBN_OK;
    size_t g2[1] = {outs};
    return MBN_LAUNCH(d, MBN_K_channel_reduce_rows, 1, g2, NULL, MEM(scratch), I(P), I(outs),
                      KFLT(1.0f), MEM(dw), OFF(dw));
}

/* ---- generic: CLBlast ---- */

static int gemm_clblast(MbnDevice *d, MbnBuf a, size_t lda, bool a_trans, MbnBuf b, size_t ldb,
                        MbnBuf c, size_t ldc, MbnBuf bias, MbnEpilogue ep, size_t M, size_t N,
                        size_t K) {
    MBN_TRY(mbn_gemm(d, a_trans, false, M, N, K, 1.0f, a.mem, a.off, lda, b.mem, b.off, ldb, 0.0f,
                     c.mem, c.off, ldc));
    if (!bias.mem || ep == MBN_EP_NONE) return MBN_OK;
    if (ldc != N) return mbn_fail(MBN_EFAIL, "gemm: a bias epilogue needs ldc == N");
    size_t g[2] = {N, M};
    return MBN_LAUNCH(d, ep == MBN_EP_BIAS ? MBN_K_bias_add_rows : MBN_K_bias_relu6, 2, g, NULL,
                      MEM(c), OFF(c), MEM(bias), OFF(bias), I(M), I(N));
}

/* Weight gradient dw[Cout, K] = dy[M, Cout]^T x[M, K] through CLBlast when M is long: one GEMM
 * would give the device only Cout*K outputs to parallelise over while each walks all M rows
 * (on an H100 the 112x112 layers ran 10x slower than PyTorch). Split-K instead: S equal row
 * chunks as one strided batched GEMM into partials, a remainder chunk, then the partials added
 * in order (channel_reduce_rows): deterministic, and S depends only on the shapes, the row's
 * parameters and the scratch size. */
static int wgrad_clblast(MbnDevice *d, const MbnVariantChoice *v, MbnBuf dy, MbnBuf x, MbnBuf dw,
                         size_t M, int Cout, int K, MbnBuf scratch) {
    size_t outs = (size_t)Cout * (size_t)K, scratch_bytes = 0;
    clGetMemObjectInfo(scratch.mem, CL_MEM_SIZE, sizeof scratch_bytes, &scratch_bytes, NULL);
    size_t room = scratch_bytes / sizeof(float) / outs; /* partials that fit */
    size_t S = M / (size_t)mbn_vparam(v, "SPLIT_ROWS"), smax = (size_t)mbn_vparam(v, "SPLIT_MAX");
    if (S > smax) S = smax;
    if (S + 1 > room) S = room > 1 ? room - 1 : 0;
    if (S < 2)
        return mbn_gemm(d, true, false, (size_t)Cout, (size_t)K, M, 1.0f, dy.mem, dy.off,
                        (size_t)Cout, x.mem, x.off, (size_t)K, 0.0f, dw.mem, dw.off, (size_t)K);
    size_t kc = M / S, rest = M - S * kc;
    MBN_TRY(mbn_gemm_strided_batched(d, true, false, (size_t)Cout, (size_t)K, kc, dy.mem, dy.off,
                                     (size_t)Cout, kc * (size_t)Cout, x.mem, x.off, (size_t)K,
                                     kc * (size_t)K, scratch.mem, 0, (size_t)K, outs, S));
    size_t parts = S;
    if (rest) {
        MBN_TRY(mbn_gemm(d, true, false, (size_t)Cout, (size_t)K, rest, 1.0f, dy.mem,
                         dy.off + S * kc * (size_t)Cout, (size_t)Cout, x.mem,
                         x.off + S * kc * (size_t)K, (size_t)K, 0.0f, scratch.mem, S * outs,
                         (size_t)K));
        parts++;
    }
    size_t g[1] = {outs};
    return MBN_LAUNCH(d, MBN_K_channel_reduce_rows, 1, g, NULL, MEM(scratch), I(parts), I(outs),
                      KFLT(1.0f), MEM(dw), OFF(dw));
}

/* ---- dispatch ---- */

static bool cpu_gemm(MbnDevice *d) {
    return mbn_variant_pick(d, MBN_OP_GEMM, 1)->row->family == MBN_FAMILY_CPU;
}

bool mbn_ops_wt_packed(MbnDevice *d) {
    return cpu_gemm(d);
}

static int gemm(MbnDevice *d, MbnBuf a, size_t lda, bool a_trans, MbnBuf b, size_t ldb,
                bool b_packed, MbnBuf c, size_t ldc, MbnBuf bias, MbnEpilogue ep, size_t M,
                size_t N, size_t K) {
    const MbnVariantChoice *v = mbn_variant_pick(d, MBN_OP_GEMM, 1);
    switch (v->row->family) {
    case MBN_FAMILY_CPU:
        return gemm_cpu(d, v, a, lda, a_trans, b, ldb, b_packed, c, ldc, bias, ep, M, N, K);
    case MBN_FAMILY_GPU:
        return gemm_gpu(d, v, a, lda, a_trans, b, ldb, c, ldc, bias, ep, M, N, K, NULL);
    default:
        return gemm_clblast(d, a, lda, a_trans, b, ldb, c, ldc, bias, ep, M, N, K);
    }
}

int mbn_ops_gemm(MbnDevice *d, MbnBuf a, size_t lda, bool a_trans, MbnBuf b, size_t ldb, MbnBuf c,
                 size_t ldc, MbnBuf bias, MbnEpilogue ep, size_t M, size_t N, size_t K) {
    return gemm(d, a, lda, a_trans, b, ldb, false, c, ldc, bias, ep, M, N, K);
}

int mbn_ops_gemm_wt(MbnDevice *d, MbnBuf a, size_t lda, MbnBuf wt, MbnBuf c, size_t ldc,
                    MbnBuf bias, MbnEpilogue ep, size_t M, size_t N, size_t K) {
    return gemm(d, a, lda, false, wt, N, cpu_gemm(d), c, ldc, bias, ep, M, N, K);
}

int mbn_ops_weight_grad(MbnDevice *d, MbnBuf x, MbnBuf dy, MbnBuf dw, size_t M, int K, int Cout,
                        MbnBuf scratch, MbnBuf work) {
    const MbnVariantChoice *v = mbn_variant_pick(d, MBN_OP_GEMM_WGRAD, Cout);
    MBN_TRY(mbn_ops_need_scratch(scratch, mbn_ops_gemm_scratch(M, Cout), "weight gradient"));
    switch (v->row->family) {
    case MBN_FAMILY_CPU:
        return wgrad_cpu(d, v, x, dy, dw, M, K, Cout, scratch, work);
    case MBN_FAMILY_GPU:
        return wgrad_gpu(d, v, x, dy, dw, M, K, Cout, scratch);
    default:
        return wgrad_clblast(d, v, dy, x, dw, M, Cout, K, scratch);
    }
}

/* ---- the pointwise ops ---- */

int mbn_op_transpose(MbnDevice *d, MbnBuf src, MbnBuf dst, int rows, int cols) {
    size_t g[2] = {(size_t)cols, (size_t)rows};
    /* gemm.cl reads the forward weights as packed TN-column panels (see b_tile there). */
    return MBN_LAUNCH(d, cpu_gemm(d) ? MBN_K_pack_b_panels : MBN_K_transpose, 2, g, NULL, MEM(src),
                      OFF(src), MEM(dst), OFF(dst), I(rows), I(cols));
}

size_t mbn_ops_gemm_b_halves(MbnDevice *d, int K, int N) {
    if (!cpu_gemm(d)) return (size_t)K * N;
    size_t TN = (size_t)mbn_vparam(&d->variants.op[MBN_OP_GEMM], "TN");
    return (size_t)K * (((size_t)N + TN - 1) / TN * TN);
}

/* The fp16 path's pointwise GEMM: y[M, Cout] = x wt (+ bias, ReLU6), x, wt and y half, wt as
 * bn_fold_h wrote it for the device's gemm row (cl/half.cl, cl/half_gpu.cl). */
static int pw_fwd_h(MbnDevice *d, MbnBuf x, MbnBuf wt, MbnBuf bias, MbnBuf y, size_t M, int Cin,
                    int Cout) {
    const MbnVariantChoice *v = mbn_variant_pick(d, MBN_OP_GEMM, 1);
    size_t N = (size_t)Cout;
    MbnBuf b = bias.mem ? bias : MBN_BUF(wt.mem, 0); /* any valid buffer when unused */
    if (v->row->family == MBN_FAMILY_CPU) { /* a TN-column panel x a run of row tiles each */
        size_t TM = (size_t)mbn_vparam(v, "TM"), TN = (size_t)mbn_vparam(v, "TN"), tiles, runs;
        size_t col_tiles = (N + TN - 1) / TN;
        cpu_runs(d, v, (M + TM - 1) / TM, col_tiles, &tiles, &runs);
        size_t g[2] = {col_tiles, runs}, l[2] = {1, 1};
        return MBN_LAUNCH(d, MBN_K_gemm_tiled_h, 2, g, l, MEM(x), OFF(x), I(Cin), MEM(wt), OFF(wt),
                          MEM(y), OFF(y), I(Cout), MEM(b), OFF(b), I(bias.mem != NULL), I(M), I(N),
                          I(Cin), I(tiles));
    }
    if (v->row->family == MBN_FAMILY_GPU) {
        size_t BM = (size_t)mbn_vparam(v, "BM"), BN = (size_t)mbn_vparam(v, "BN");
        size_t LX = BN / (size_t)mbn_vparam(v, "TN"), LY = BM / (size_t)mbn_vparam(v, "TM");
        size_t g[2] = {(N + BN - 1) / BN * LX, (M + BM - 1) / BM * LY}, l[2] = {LX, LY};
        return MBN_LAUNCH(d, MBN_K_half_gemm_gpu, 2, g, l, MEM(x), OFF(x), I(Cin), MEM(wt), OFF(wt),
                          I(Cout), MEM(y), OFF(y), I(Cout), MEM(b), OFF(b), I(bias.mem != NULL),
                          I(M), I(N), I(Cin));
    }
    size_t g[2] = {N, M};
    return MBN_LAUNCH(d, MBN_K_gemm_rows_h, 2, g, NULL, MEM(x), OFF(x), I(Cin), MEM(wt), OFF(wt),
                      I(Cout), MEM(y), OFF(y), I(Cout), MEM(b), OFF(b), I(bias.mem != NULL), I(M),
                      I(N), I(Cin));
}

int mbn_op_pw_fwd_t(MbnDevice *d, MbnBuf x, MbnBuf wt, MbnBuf bias, MbnBuf y, size_t M, int Cin,
                    int Cout) {
    if (x.half != wt.half || x.half != y.half)
        return mbn_fail(MBN_EFAIL, "pw_fwd: x, the weights and y must all be half or all float");
    if (x.half) return pw_fwd_h(d, x, wt, bias, y, M, Cin, Cout);
    return mbn_ops_gemm_wt(d, x, (size_t)Cin, wt, y, (size_t)Cout, bias, MBN_EP_BIAS_RELU6, M,
                           (size_t)Cout, (size_t)Cin);
}

int mbn_op_pw_bwd_input_ws(MbnDevice *d, MbnBuf dy, MbnBuf w, MbnBuf dx, size_t M, int Cin,
                           int Cout, MbnBuf work) {
    if (!work.mem || !cpu_gemm(d)) return mbn_op_pw_bwd_input(d, dy, w, dx, M, Cin, Cout);
    /* gemm.cl reads B = w [Cout, Cin] packed in TN-column panels (rows Cin floats apart would
     * share L1 sets at 512 and 1024 channels, as in the forward). */
    size_t g[2] = {(size_t)Cin, (size_t)Cout};
    MBN_TRY(MBN_LAUNCH(d, MBN_K_pack_b_panels_rows, 2, g, NULL, MEM(w), OFF(w), MEM(work),
                       OFF(work), I(Cout), I(Cin)));
    return gemm(d, dy, (size_t)Cout, false, work, (size_t)Cin, true, dx, (size_t)Cin, MBN_NOBUF,
                MBN_EP_NONE, M, (size_t)Cin, (size_t)Cout);
}

int mbn_op_pw_bwd_input(MbnDevice *d, MbnBuf dy, MbnBuf w, MbnBuf dx, size_t M, int Cin, int Cout) {
    /* dx = dy w: w [Cout, Cin] is already the row-major B operand */
    return mbn_ops_gemm(d, dy, (size_t)Cout, false, w, (size_t)Cin, dx, (size_t)Cin, MBN_NOBUF,
                        MBN_EP_NONE, M, (size_t)Cin, (size_t)Cout);
}

int mbn_op_pw_bwd_weight_ws(MbnDevice *d, MbnBuf x, MbnBuf dy, MbnBuf dw, size_t M, int Cin,
                            int Cout, MbnBuf scratch, MbnBuf work) {
    return mbn_ops_weight_grad(d, x, dy, dw, M, Cin, Cout, scratch, work);
}

int mbn_op_pw_bwd_weight_split(MbnDevice *d, MbnBuf x, MbnBuf dy, MbnBuf dw, size_t M, int Cin,
                               int Cout, MbnBuf scratch) {
    return mbn_ops_weight_grad(d, x, dy, dw, M, Cin, Cout, scratch, MBN_NOBUF);
}

/* ---- kept for the op tests (see ops.h) ---- */

int mbn_op_pw_fwd(MbnDevice *d, MbnBuf x, MbnBuf w, MbnBuf y, size_t M, int Cin, int Cout) {
    return mbn_gemm(d, false, true, M, (size_t)Cout, (size_t)Cin, 1.0f, x.mem, x.off, (size_t)Cin,
                    w.mem, w.off, (size_t)Cin, 0.0f, y.mem, y.off, (size_t)Cout);
}

int mbn_op_pw_bwd_weight(MbnDevice *d, MbnBuf x, MbnBuf dy, MbnBuf dw, size_t M, int Cin,
                         int Cout) {
    /* dw = dy^T x in one GEMM over all M rows: dy read as the transposed A operand */
    return mbn_ops_gemm(d, dy, (size_t)Cout, true, x, (size_t)Cin, dw, (size_t)Cin, MBN_NOBUF,
                        MBN_EP_NONE, (size_t)Cout, (size_t)Cin, M);
}
