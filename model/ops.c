#include "model/ops.h"

#include <stdlib.h>
#include <string.h>

#include "host/blas.h"
#include "host/device.h"
#include "base/error.h"
#include "host/kernels.h"

/* Two-stage reductions: at most CHUNKS chunks of at least MIN_ROWS rows (the row's parameters,
 * host/variants.c). Enough chunks to keep every core (or GPU compute unit) busy, few enough that
 * stage 2 is cheap. Fixed for a given row count and parameters: the same bits every run. */
static void chunking(const MbnVariantChoice *v, size_t rows, int *chunks, int *rows_per_chunk) {
    size_t max_chunks = (size_t)mbn_vparam(v, "CHUNKS"),
           min_rows = (size_t)mbn_vparam(v, "MIN_ROWS");
    size_t p = rows / min_rows;
    if (p < 1) p = 1;
    if (p > max_chunks) p = max_chunks;
    if (p > MBN_OPS_MAX_PARTIALS) p = MBN_OPS_MAX_PARTIALS;
    size_t rpc = (rows + p - 1) / p;
    *rows_per_chunk = (int)rpc;
    *chunks = (int)((rows + rpc - 1) / rpc);
}

int mbn_ops_chunks(size_t M) {
    int count = 0, p, r;
    const MbnVariant *t = mbn_variant_table(&count);
    for (int i = 0; i < count; i++)
        if (t[i].op == MBN_OP_BN_FWD && t[i].family == MBN_FAMILY_GENERIC) {
            MbnVariantChoice c = {&t[i], {0}, false};
            for (int k = 0; k < t[i].n_params; k++)
                c.value[k] = t[i].params[k].value;
            chunking(&c, M, &p, &r);
            return p;
        }
    return 1;
}

size_t mbn_ops_scratch_floats(size_t M, int C) {
    (void)M;
    return (size_t)MBN_OPS_MAX_PARTIALS * 9 * (size_t)C + 2 * (size_t)C;
}

#define I(x) KINT(x)
#define MEM(b) KMEM((b).mem)
#define OFF(b) KINT((b).off)

/* ---- stem ---- */

int mbn_op_stem_im2col(MbnDevice *d, MbnBuf x, int N, int H, int W, int stride, MbnBuf patches) {
    int Ho = mbn_conv_out(H, stride), Wo = mbn_conv_out(W, stride);
    size_t g[2] = {(size_t)Wo, (size_t)N * Ho};
    return MBN_LAUNCH(d, MBN_K_stem_im2col, 2, g, NULL, MEM(x), OFF(x), MEM(patches), OFF(patches),
                      I(N), I(H), I(W), I(Ho), I(Wo), I(stride));
}

int mbn_op_stem_gemm(MbnDevice *d, MbnBuf patches, MbnBuf w, MbnBuf z, size_t M, int Cout) {
    return mbn_gemm(d, false, true, M, (size_t)Cout, 27, 1.0f, patches.mem, patches.off, 27, w.mem,
                    w.off, 27, 0.0f, z.mem, z.off, (size_t)Cout);
}

static bool use_tiled_gemm(MbnDevice *d);
static int gemm_weight_grad(MbnDevice *d, const MbnVariantChoice *v, MbnBuf x, MbnBuf dy, MbnBuf dw,
                            size_t M, int Cin, int Cout, MbnBuf scratch);

/* Weight gradient dw[Cout, K] = dy[M, Cout]^T x[M, K] through CLBlast when M is long: one GEMM
 * would give the device only Cout*K outputs to parallelise over while each walks all M rows
 * (on an H100 the 112x112 layers ran 10x slower than PyTorch). Split-K instead: S equal row
 * chunks as one strided batched GEMM into partials, a remainder chunk, then the partials added
 * in order (channel_reduce_rows): deterministic, and S depends only on the shapes and the
 * scratch size. */
static int clblast_weight_grad(MbnDevice *d, MbnBuf dy, MbnBuf x, MbnBuf dw, size_t M, int Cout,
                               int K, MbnBuf scratch) {
    const MbnVariantChoice *v = &d->variants.generic[MBN_OP_GEMM_WGRAD];
    size_t outs = (size_t)Cout * (size_t)K, scratch_bytes = 0;
    if (scratch.mem)
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
    return MBN_LAUNCH(d, MBN_K_channel_reduce_rows, 1, g, NULL, KMEM(scratch.mem), I(parts),
                      I(outs), KFLT(1.0f), MEM(dw), OFF(dw));
}

int mbn_op_stem_bwd_weight(MbnDevice *d, MbnBuf patches, MbnBuf dz, MbnBuf dw, size_t M, int Cout,
                           MbnBuf scratch) {
    const MbnVariantChoice *v = mbn_variant_pick(d, MBN_OP_GEMM_WGRAD, Cout);
    if (v->row->family == MBN_FAMILY_CPU && scratch.mem)
        return gemm_weight_grad(d, v, patches, dz, dw, M, 27, Cout, scratch);
    return clblast_weight_grad(d, dz, patches, dw, M, Cout, 27, scratch);
}

/* ---- depthwise ---- */

int mbn_op_dw_fwd(MbnDevice *d, MbnBuf x, MbnBuf w, MbnBuf bias, MbnBuf y, int N, int H, int W,
                  int C, int stride) {
    int Ho = mbn_conv_out(H, stride), Wo = mbn_conv_out(W, stride);
    cl_mem b = bias.mem ? bias.mem : w.mem; /* any valid buffer when unused */
    if (mbn_variant_pick(d, MBN_OP_DW_FWD, C)->row->family == MBN_FAMILY_CPU) {
        /* One work-group per output row: C/8 work-items of 8 channels each. */
        size_t g[2] = {(size_t)C / 8, (size_t)N * Ho}, l[2] = {(size_t)C / 8, 1};
        if (l[0] > d->info.max_work_group) l[0] = 1;
        return MBN_LAUNCH(d, MBN_K_dw_conv3x3_fwd_row8, 2, g, l, MEM(x), OFF(x), MEM(w), OFF(w),
                          KMEM(b), OFF(bias), I(bias.mem != NULL), MEM(y), OFF(y), I(N), I(H), I(W),
                          I(C), I(Ho), I(Wo), I(stride));
    }
    size_t g[3] = {(size_t)C, (size_t)Wo, (size_t)N * Ho};
    return MBN_LAUNCH(d, MBN_K_dw_conv3x3_fwd, 3, g, NULL, MEM(x), OFF(x), MEM(w), OFF(w), KMEM(b),
                      OFF(bias), I(bias.mem != NULL), MEM(y), OFF(y), I(N), I(H), I(W), I(C), I(Ho),
                      I(Wo), I(stride));
}

int mbn_op_dw_bwd_input(MbnDevice *d, MbnBuf dy, MbnBuf w, MbnBuf dx, int N, int H, int W, int C,
                        int stride) {
    int Ho = mbn_conv_out(H, stride), Wo = mbn_conv_out(W, stride);
    if (mbn_variant_pick(d, MBN_OP_DW_BWD_INPUT, C)->row->family == MBN_FAMILY_CPU) {
        size_t g[2] = {(size_t)C / 8, (size_t)N * H}, l[2] = {(size_t)C / 8, 1};
        if (l[0] > d->info.max_work_group) l[0] = 1;
        return MBN_LAUNCH(d, MBN_K_dw_conv3x3_bwd_input_row8, 2, g, l, MEM(dy), OFF(dy), MEM(w),
                          OFF(w), MEM(dx), OFF(dx), I(N), I(H), I(W), I(C), I(Ho), I(Wo),
                          I(stride));
    }
    size_t g[3] = {(size_t)C, (size_t)W, (size_t)N * H};
    return MBN_LAUNCH(d, MBN_K_dw_conv3x3_bwd_input, 3, g, NULL, MEM(dy), OFF(dy), MEM(w), OFF(w),
                      MEM(dx), OFF(dx), I(N), I(H), I(W), I(C), I(Ho), I(Wo), I(stride));
}

int mbn_op_dw_bwd_weight(MbnDevice *d, MbnBuf x, MbnBuf dy, MbnBuf dw, int N, int H, int W, int C,
                         int stride, MbnBuf scratch) {
    int Ho = mbn_conv_out(H, stride), Wo = mbn_conv_out(W, stride);
    int P, rpc;
    const MbnVariantChoice *vc = mbn_variant_pick(d, MBN_OP_DW_BWD_WEIGHT, C);
    /* Rows here are (n, oh) lines of Wo outputs each. */
    chunking(vc, (size_t)N * Ho, &P, &rpc);
    bool v = vc->row->family == MBN_FAMILY_CPU;
    size_t g1[2] = {(size_t)(v ? C / 8 : C), (size_t)P};
    MBN_TRY(MBN_LAUNCH(
        d, v ? MBN_K_dw_conv3x3_bwd_weight_partial8 : MBN_K_dw_conv3x3_bwd_weight_partial, 2, g1,
        NULL, MEM(x), OFF(x), MEM(dy), OFF(dy), KMEM(scratch.mem), I(N), I(H), I(W), I(C), I(Ho),
        I(Wo), I(stride), I(rpc)));
    size_t g2[1] = {(size_t)9 * C};
    return MBN_LAUNCH(d, MBN_K_channel_reduce_rows, 1, g2, NULL, KMEM(scratch.mem), I(P), I(9 * C),
                      KFLT(1.0f), MEM(dw), OFF(dw));
}

/* ---- pointwise ---- */

/* CPU devices run GEMMs with gemm.cl's register-tiled kernel (2-10x CLBlast on PoCL, see
 * docs/PERFORMANCE.md); the generic row is CLBlast (MBN_KERNELS=generic forces it). */
static bool use_tiled_gemm(MbnDevice *d) {
    return mbn_variant_pick(d, MBN_OP_GEMM, 1)->row->family == MBN_FAMILY_CPU;
}

/* C[M, N] = op(A) B (+ bias, ReLU6) with gemm.cl. Each work-item walks a run of row tiles of
 * one column tile; runs are sized for a few hundred work-items, enough to balance the cores
 * while keeping a B panel hot in cache. */
static int gemm_tiled_ep(MbnDevice *d, MbnBuf a, size_t lda, bool a_trans, MbnBuf b, size_t ldb,
                         MbnBuf c, size_t ldc, MbnBuf bias, int epilogue, size_t M, size_t N,
                         size_t K) {
    const MbnVariantChoice *v = &d->variants.op[MBN_OP_GEMM];
    size_t TM = (size_t)mbn_vparam(v, "TM"), TN = (size_t)mbn_vparam(v, "TN");
    size_t run = (size_t)mbn_vparam(v, "RUN");
    size_t row_tiles = (M + TM - 1) / TM, col_tiles = (N + TN - 1) / TN;
    /* Column tiles per work-item: as many B panels (K x TN floats) as fit in PANEL_FLOATS. */
    size_t ctiles = (size_t)mbn_vparam(v, "PANEL_FLOATS") / ((K ? K : 1) * TN);
    if (ctiles < 1) ctiles = 1;
    if (ctiles > col_tiles) ctiles = col_tiles;
    size_t col_groups = (col_tiles + ctiles - 1) / ctiles;
    size_t tiles = (row_tiles * col_groups + run - 1) / run;
    if (tiles > row_tiles) tiles = row_tiles;
    size_t g[3] = {col_groups, (row_tiles + tiles - 1) / tiles, 1}, l[3] = {1, 1, 1};
    cl_mem bm = bias.mem ? bias.mem : b.mem; /* any valid buffer when unused */
    return MBN_LAUNCH(d, MBN_K_gemm_tiled, 3, g, l, MEM(a), OFF(a), I(lda), I(a_trans), MEM(b),
                      OFF(b), I(ldb), MEM(c), OFF(c), I(ldc), KMEM(bm), OFF(bias),
                      I(bias.mem ? epilogue : 0), I(M), I(N), I(K), I(tiles), I(K), I(0),
                      I(ctiles));
}

/* ... with bias + ReLU6 when bias.mem is set. */
static int gemm_tiled(MbnDevice *d, MbnBuf a, size_t lda, bool a_trans, MbnBuf b, size_t ldb,
                      MbnBuf c, size_t ldc, MbnBuf bias, size_t M, size_t N, size_t K) {
    return gemm_tiled_ep(d, a, lda, a_trans, b, ldb, c, ldc, bias, 1, M, N, K);
}

/* Weight gradient dw[Cout, Cin] = dy^T x over K = M pixel rows, split into P chunks of K
 * (P from the shapes only: at least 512 rows a chunk, and P x Cout x Cin partials must fit
 * the ops scratch, which holds MBN_OPS_MAX_PARTIALS * 9 * C floats for C >= Cout). Each work-item
 * sweeps every row tile of dw for its chunk, so the chunk of dy and x stays in cache; the
 * chunks are then added in order. */
/* Split-K chunk count for the tiled weight gradient: KC_MIN rows of K a chunk at least, and
 * P x Cout x Cin partials within the ops scratch (MBN_OPS_MAX_PARTIALS * 9 * C floats for
 * C >= Cout). */
static size_t wgrad_chunks(const MbnVariantChoice *v, size_t M, int Cin) {
    size_t P = M / (size_t)mbn_vparam(v, "KC_MIN"),
           cap = (size_t)MBN_OPS_MAX_PARTIALS * 9 / (size_t)Cin;
    if (P > cap) P = cap;
    if (P > MBN_OPS_MAX_PARTIALS) P = MBN_OPS_MAX_PARTIALS;
    return P < 1 ? 1 : P;
}

static int gemm_weight_grad(MbnDevice *d, const MbnVariantChoice *v, MbnBuf x, MbnBuf dy, MbnBuf dw,
                            size_t M, int Cin, int Cout, MbnBuf scratch) {
    size_t P = wgrad_chunks(v, M, Cin);
    if (P <= 1)
        return gemm_tiled(d, dy, (size_t)Cout, true, x, (size_t)Cin, dw, (size_t)Cin, MBN_NOBUF,
                          (size_t)Cout, (size_t)Cin, M);
    size_t TM = (size_t)mbn_vparam(v, "TM"), TN = (size_t)mbn_vparam(v, "TN");
    size_t kc = (M + P - 1) / P, n_out = (size_t)Cout * Cin;
    P = (M + kc - 1) / kc;
    size_t row_tiles = ((size_t)Cout + TM - 1) / TM;
    size_t g[3] = {((size_t)Cin + TN - 1) / TN, 1, P}, l[3] = {1, 1, 1};
    MBN_TRY(MBN_LAUNCH(d, MBN_K_gemm_tiled, 3, g, l, MEM(dy), OFF(dy), I(Cout), I(1), MEM(x),
                       OFF(x), I(Cin), KMEM(scratch.mem), I(0), I(Cin), MEM(dw), I(0), I(0),
                       I(Cout), I(Cin), I(M), I(row_tiles), I(kc), I(n_out), I(1)));
    size_t g2[1] = {n_out};
    return MBN_LAUNCH(d, MBN_K_channel_reduce_rows, 1, g2, NULL, KMEM(scratch.mem), I(P), I(n_out),
                      KFLT(1.0f), MEM(dw), OFF(dw));
}

/* dw = dy^T x with dy first transposed into `work` ([Cout, M], M x Cout floats that may be
 * overwritten): the tiled kernel then streams 6 contiguous rows of dy^T instead of gathering
 * 6 floats from rows Cout floats apart, which made this GEMM 2.7x slower than the
 * input-gradient GEMM of the same size. Needs M and Cout multiples of 8 (transpose8). */
static int gemm_weight_grad_t(MbnDevice *d, const MbnVariantChoice *v, MbnBuf x, MbnBuf dy,
                              MbnBuf dw, size_t M, int Cin, int Cout, MbnBuf scratch, MbnBuf work) {
    size_t gt[2] = {(size_t)Cout / 8, M / 8};
    MBN_TRY(MBN_LAUNCH(d, MBN_K_transpose8, 2, gt, NULL, MEM(dy), OFF(dy), MEM(work), OFF(work),
                       I(M), I(Cout)));
    size_t P = wgrad_chunks(v, M, Cin);
    size_t TM = (size_t)mbn_vparam(v, "TM"), TN = (size_t)mbn_vparam(v, "TN");
    size_t kc = (M + P - 1) / P, n_out = (size_t)Cout * Cin;
    P = (M + kc - 1) / kc;
    size_t row_tiles = ((size_t)Cout + TM - 1) / TM;
    size_t g[3] = {((size_t)Cin + TN - 1) / TN, 1, P}, l[3] = {1, 1, 1};
    MbnBuf out = P > 1 ? MBN_BUF(scratch.mem, 0) : dw;
    MBN_TRY(MBN_LAUNCH(d, MBN_K_gemm_tiled, 3, g, l, MEM(work), OFF(work), I(M), I(0), MEM(x),
                       OFF(x), I(Cin), MEM(out), OFF(out), I(Cin), MEM(dw), I(0), I(0), I(Cout),
                       I(Cin), I(M), I(row_tiles), I(kc), I(n_out), I(1)));
    if (P == 1) return MBN_OK;
    size_t g2[1] = {n_out};
    return MBN_LAUNCH(d, MBN_K_channel_reduce_rows, 1, g2, NULL, KMEM(scratch.mem), I(P), I(n_out),
                      KFLT(1.0f), MEM(dw), OFF(dw));
}

int mbn_op_pw_bwd_weight_ws(MbnDevice *d, MbnBuf x, MbnBuf dy, MbnBuf dw, size_t M, int Cin,
                            int Cout, MbnBuf scratch, MbnBuf work) {
    const MbnVariantChoice *v = mbn_variant_pick(d, MBN_OP_GEMM_WGRAD, Cout);
    if (v->row->family == MBN_FAMILY_CPU && mbn_vparam(v, "TRANSPOSE") && work.mem && M % 8 == 0 &&
        Cout % 8 == 0)
        return gemm_weight_grad_t(d, v, x, dy, dw, M, Cin, Cout, scratch, work);
    return mbn_op_pw_bwd_weight_split(d, x, dy, dw, M, Cin, Cout, scratch);
}

int mbn_op_pw_bwd_weight_split(MbnDevice *d, MbnBuf x, MbnBuf dy, MbnBuf dw, size_t M, int Cin,
                               int Cout, MbnBuf scratch) {
    const MbnVariantChoice *v = mbn_variant_pick(d, MBN_OP_GEMM_WGRAD, Cout);
    if (v->row->family == MBN_FAMILY_CPU)
        return gemm_weight_grad(d, v, x, dy, dw, M, Cin, Cout, scratch);
    return clblast_weight_grad(d, dy, x, dw, M, Cout, Cin, scratch);
}

int mbn_op_transpose(MbnDevice *d, MbnBuf src, MbnBuf dst, int rows, int cols) {
    size_t g[2] = {(size_t)cols, (size_t)rows};
    return MBN_LAUNCH(d, MBN_K_transpose, 2, g, NULL, MEM(src), OFF(src), MEM(dst), OFF(dst),
                      I(rows), I(cols));
}

int mbn_op_pw_fwd_t(MbnDevice *d, MbnBuf x, MbnBuf wt, MbnBuf bias, MbnBuf y, size_t M, int Cin,
                    int Cout) {
    if (use_tiled_gemm(d))
        return gemm_tiled(d, x, (size_t)Cin, false, wt, (size_t)Cout, y, (size_t)Cout, bias, M,
                          (size_t)Cout, (size_t)Cin);
    MBN_TRY(mbn_gemm(d, false, false, M, (size_t)Cout, (size_t)Cin, 1.0f, x.mem, x.off, (size_t)Cin,
                     wt.mem, wt.off, (size_t)Cout, 0.0f, y.mem, y.off, (size_t)Cout));
    return bias.mem ? mbn_op_bias_relu6(d, y, bias, M, Cout) : MBN_OK;
}

int mbn_op_pw_fwd(MbnDevice *d, MbnBuf x, MbnBuf w, MbnBuf y, size_t M, int Cin, int Cout) {
    return mbn_gemm(d, false, true, M, (size_t)Cout, (size_t)Cin, 1.0f, x.mem, x.off, (size_t)Cin,
                    w.mem, w.off, (size_t)Cin, 0.0f, y.mem, y.off, (size_t)Cout);
}

int mbn_op_pw_bwd_input(MbnDevice *d, MbnBuf dy, MbnBuf w, MbnBuf dx, size_t M, int Cin, int Cout) {
    if (use_tiled_gemm(d)) /* dx = dy w: w [Cout, Cin] is already the row-major B operand */
        return gemm_tiled(d, dy, (size_t)Cout, false, w, (size_t)Cin, dx, (size_t)Cin, MBN_NOBUF, M,
                          (size_t)Cin, (size_t)Cout);
    return mbn_gemm(d, false, false, M, (size_t)Cin, (size_t)Cout, 1.0f, dy.mem, dy.off,
                    (size_t)Cout, w.mem, w.off, (size_t)Cin, 0.0f, dx.mem, dx.off, (size_t)Cin);
}

int mbn_op_pw_bwd_weight(MbnDevice *d, MbnBuf x, MbnBuf dy, MbnBuf dw, size_t M, int Cin,
                         int Cout) {
    if (use_tiled_gemm(d)) /* dw = dy^T x: dy read as the transposed A operand */
        return gemm_tiled(d, dy, (size_t)Cout, true, x, (size_t)Cin, dw, (size_t)Cin, MBN_NOBUF,
                          (size_t)Cout, (size_t)Cin, M);
    return mbn_gemm(d, true, false, (size_t)Cout, (size_t)Cin, M, 1.0f, dy.mem, dy.off,
                    (size_t)Cout, x.mem, x.off, (size_t)Cin, 0.0f, dw.mem, dw.off, (size_t)Cin);
}

/* ---- BatchNorm + ReLU6 ---- */

int mbn_op_bn_relu6_train(MbnDevice *d, MbnBuf z, MbnBuf gamma, MbnBuf beta, MbnBuf running_mean,
                          MbnBuf running_var, float momentum, float eps, size_t M, int C, MbnBuf y,
                          MbnBuf save_mean, MbnBuf save_invstd, MbnBuf scratch) {
    if (save_mean.off != save_invstd.off)
        return mbn_fail(MBN_EFAIL, "bn: mean and invstd must share an offset");
    int P, rpc;
    const MbnVariantChoice *vc = mbn_variant_pick(d, MBN_OP_BN_FWD, C);
    chunking(vc, M, &P, &rpc);
    bool v = vc->row->family == MBN_FAMILY_CPU;
    size_t g2[2] = {(size_t)(v ? C / 8 : C), (size_t)P}, g1[1] = {(size_t)C};
    cl_mem s = scratch.mem;
    int sq_off = (int)((size_t)MBN_OPS_MAX_PARTIALS * 9 * (size_t)C); /* after the partials */
    MBN_TRY(MBN_LAUNCH(d, v ? MBN_K_channel_sum_partial8 : MBN_K_channel_sum_partial, 2, g2, NULL,
                       MEM(z), OFF(z), KMEM(s), I(0), I(M), I(C), I(rpc)));
    MBN_TRY(MBN_LAUNCH(d, MBN_K_channel_reduce_rows, 1, g1, NULL, KMEM(s), I(P), I(C),
                       KFLT(1.0f / (float)M), MEM(save_mean), OFF(save_mean)));
    MBN_TRY(MBN_LAUNCH(d, v ? MBN_K_channel_sqdev_partial8 : MBN_K_channel_sqdev_partial, 2, g2,
                       NULL, MEM(z), OFF(z), MEM(save_mean), OFF(save_mean), KMEM(s), I(M), I(C),
                       I(rpc)));
    MBN_TRY(MBN_LAUNCH(d, MBN_K_channel_reduce_rows, 1, g1, NULL, KMEM(s), I(P), I(C), KFLT(1.0f),
                       KMEM(s), I(sq_off)));
    MBN_TRY(MBN_LAUNCH(d, MBN_K_bn_finalize_stats, 1, g1, NULL, KMEM(s), I(sq_off), MEM(save_mean),
                       OFF(save_mean), MEM(save_invstd), MEM(running_mean), OFF(running_mean),
                       MEM(running_var), OFF(running_var), I(M), I(C), KFLT(momentum), KFLT(eps)));
    if (v)
        return MBN_LAUNCH(d, MBN_K_bn_relu6_apply8, 2, g2, NULL, MEM(z), OFF(z), MEM(gamma),
                          OFF(gamma), MEM(beta), OFF(beta), MEM(save_mean), MEM(save_invstd),
                          OFF(save_mean), MEM(y), OFF(y), I(M), I(C), I(rpc));
    size_t ga[2] = {(size_t)C, M};
    return MBN_LAUNCH(d, MBN_K_bn_relu6_apply, 2, ga, NULL, MEM(z), OFF(z), MEM(gamma), OFF(gamma),
                      MEM(beta), OFF(beta), MEM(save_mean), MEM(save_invstd), OFF(save_mean),
                      MEM(y), OFF(y), I(M), I(C));
}

int mbn_op_bn_relu6_bwd(MbnDevice *d, MbnBuf dy, MbnBuf z, MbnBuf gamma, MbnBuf beta,
                        MbnBuf save_mean, MbnBuf save_invstd, size_t M, int C, MbnBuf dz,
                        MbnBuf dgamma, MbnBuf dbeta, MbnBuf scratch) {
    if (save_mean.off != save_invstd.off)
        return mbn_fail(MBN_EFAIL, "bn: mean and invstd must share an offset");
    int P, rpc;
    const MbnVariantChoice *vc = mbn_variant_pick(d, MBN_OP_BN_BWD, C);
    chunking(vc, M, &P, &rpc);
    bool v = vc->row->family == MBN_FAMILY_CPU;
    size_t g2[2] = {(size_t)(v ? C / 8 : C), (size_t)P}, g1[1] = {(size_t)C};
    cl_mem s = scratch.mem;
    MBN_TRY(MBN_LAUNCH(d, v ? MBN_K_bn_relu6_bwd_partial8 : MBN_K_bn_relu6_bwd_partial, 2, g2, NULL,
                       MEM(dy), OFF(dy), MEM(z), OFF(z), MEM(gamma), OFF(gamma), MEM(beta),
                       OFF(beta), MEM(save_mean), MEM(save_invstd), OFF(save_mean), KMEM(s), I(M),
                       I(C), I(rpc)));
    MBN_TRY(MBN_LAUNCH(d, MBN_K_bn_bwd_finalize, 1, g1, NULL, KMEM(s), I(P), I(C), MEM(dgamma),
                       OFF(dgamma), MEM(dbeta), OFF(dbeta)));
    if (v)
        return MBN_LAUNCH(d, MBN_K_bn_relu6_bwd_apply8, 2, g2, NULL, MEM(dy), OFF(dy), MEM(z),
                          OFF(z), MEM(gamma), OFF(gamma), MEM(beta), OFF(beta), MEM(save_mean),
                          MEM(save_invstd), OFF(save_mean), MEM(dgamma), OFF(dgamma), MEM(dbeta),
                          OFF(dbeta), MEM(dz), OFF(dz), I(M), I(C), I(rpc));
    size_t ga[2] = {(size_t)C, M};
    return MBN_LAUNCH(d, MBN_K_bn_relu6_bwd_apply, 2, ga, NULL, MEM(dy), OFF(dy), MEM(z), OFF(z),
                      MEM(gamma), OFF(gamma), MEM(beta), OFF(beta), MEM(save_mean),
                      MEM(save_invstd), OFF(save_mean), MEM(dgamma), OFF(dgamma), MEM(dbeta),
                      OFF(dbeta), MEM(dz), OFF(dz), I(M), I(C));
}

int mbn_op_bn_fold(MbnDevice *d, MbnBuf w, MbnBuf gamma, MbnBuf beta, MbnBuf mean, MbnBuf var,
                   float eps, int C, int K, bool channel_minor, MbnBuf w_out, MbnBuf b_out) {
    size_t g[1] = {(size_t)C * K};
    return MBN_LAUNCH(d, MBN_K_bn_fold, 1, g, NULL, MEM(w), OFF(w), MEM(gamma), OFF(gamma),
                      MEM(beta), OFF(beta), MEM(mean), OFF(mean), MEM(var), OFF(var), KFLT(eps),
                      I(C), I(K), I(channel_minor), MEM(w_out), OFF(w_out), MEM(b_out), OFF(b_out));
}

int mbn_op_bias_relu6(MbnDevice *d, MbnBuf y, MbnBuf b, size_t M, int C) {
    size_t g[2] = {(size_t)C, M};
    return MBN_LAUNCH(d, MBN_K_bias_relu6, 2, g, NULL, MEM(y), OFF(y), MEM(b), OFF(b), I(M), I(C));
}

/* ---- head ---- */

int mbn_op_avgpool_fwd(MbnDevice *d, MbnBuf x, MbnBuf y, int N, int HW, int C) {
    size_t g[2] = {(size_t)C, (size_t)N};
    return MBN_LAUNCH(d, MBN_K_avgpool_fwd, 2, g, NULL, MEM(x), OFF(x), MEM(y), OFF(y), I(N), I(HW),
                      I(C));
}

int mbn_op_avgpool_bwd(MbnDevice *d, MbnBuf dy, MbnBuf dx, int N, int HW, int C) {
    size_t g[3] = {(size_t)C, (size_t)HW, (size_t)N};
    return MBN_LAUNCH(d, MBN_K_avgpool_bwd, 3, g, NULL, MEM(dy), OFF(dy), MEM(dx), OFF(dx), I(N),
                      I(HW), I(C));
}

int mbn_op_fc_fwd(MbnDevice *d, MbnBuf x, MbnBuf w, MbnBuf b, MbnBuf y, int N, int C, int K) {
    MBN_TRY(mbn_gemm(d, false, true, (size_t)N, (size_t)K, (size_t)C, 1.0f, x.mem, x.off, (size_t)C,
                     w.mem, w.off, (size_t)C, 0.0f, y.mem, y.off, (size_t)K));
    size_t g[2] = {(size_t)K, (size_t)N};
    return MBN_LAUNCH(d, MBN_K_bias_add_rows, 2, g, NULL, MEM(y), OFF(y), MEM(b), OFF(b), I(N),
                      I(K));
}

int mbn_op_fc_fwd_t(MbnDevice *d, MbnBuf x, MbnBuf wt, MbnBuf b, MbnBuf y, int N, int C, int K) {
    if (use_tiled_gemm(d))
        return gemm_tiled_ep(d, x, (size_t)C, false, wt, (size_t)K, y, (size_t)K, b, 2, (size_t)N,
                             (size_t)K, (size_t)C);
    MBN_TRY(mbn_gemm(d, false, false, (size_t)N, (size_t)K, (size_t)C, 1.0f, x.mem, x.off,
                     (size_t)C, wt.mem, wt.off, (size_t)K, 0.0f, y.mem, y.off, (size_t)K));
    size_t g[2] = {(size_t)K, (size_t)N};
    return MBN_LAUNCH(d, MBN_K_bias_add_rows, 2, g, NULL, MEM(y), OFF(y), MEM(b), OFF(b), I(N),
                      I(K));
}

int mbn_op_fc_bwd(MbnDevice *d, MbnBuf x, MbnBuf w, MbnBuf dy, MbnBuf dx, MbnBuf dw, MbnBuf db,
                  int N, int C, int K, MbnBuf scratch) {
    (void)scratch;
    if (dx.mem)
        MBN_TRY(mbn_gemm(d, false, false, (size_t)N, (size_t)C, (size_t)K, 1.0f, dy.mem, dy.off,
                         (size_t)K, w.mem, w.off, (size_t)C, 0.0f, dx.mem, dx.off, (size_t)C));
    MBN_TRY(mbn_gemm(d, true, false, (size_t)K, (size_t)C, (size_t)N, 1.0f, dy.mem, dy.off,
                     (size_t)K, x.mem, x.off, (size_t)C, 0.0f, dw.mem, dw.off, (size_t)C));
    /* Column sums of dy in one chunk: the N rows are added in order, straight into db. */
    size_t g[2] = {(size_t)K, 1};
    return MBN_LAUNCH(d, MBN_K_channel_sum_partial, 2, g, NULL, MEM(dy), OFF(dy), MEM(db), OFF(db),
                      I(N), I(K), I(N));
}

int mbn_op_softmax(MbnDevice *d, MbnBuf logits, MbnBuf probs, int N, int K) {
    size_t g[1] = {(size_t)N};
    return MBN_LAUNCH(d, MBN_K_softmax_rows, 1, g, NULL, MEM(logits), OFF(logits), MEM(probs),
                      OFF(probs), I(N), I(K));
}

int mbn_op_xent_smooth(MbnDevice *d, MbnBuf logits, MbnBuf labels, int N, int K, float smoothing,
                       MbnBuf dlogits, MbnBuf loss, MbnBuf scratch) {
    size_t g[1] = {(size_t)N};
    MBN_TRY(MBN_LAUNCH(d, MBN_K_softmax_xent_smooth, 1, g, NULL, MEM(logits), OFF(logits),
                       MEM(labels), OFF(labels), I(N), I(K), KFLT(smoothing), MEM(dlogits),
                       OFF(dlogits), KMEM(scratch.mem)));
    size_t one[1] = {1};
    return MBN_LAUNCH(d, MBN_K_mean_reduce, 1, one, NULL, KMEM(scratch.mem), I(N), MEM(loss),
                      OFF(loss));
}

/* ---- optimizer ---- */

int mbn_op_sgd(MbnDevice *d, MbnBuf w, MbnBuf g, MbnBuf v, size_t n, float lr, float momentum,
               float weight_decay) {
    if (w.off != g.off || w.off != v.off)
        return mbn_fail(MBN_EFAIL, "sgd: weights, gradients and momentum must share offsets");
    size_t gs[1] = {n};
    return MBN_LAUNCH(d, MBN_K_sgd_momentum, 1, gs, NULL, MEM(w), MEM(g), MEM(v), OFF(w), I(n),
                      KFLT(lr), KFLT(momentum), KFLT(weight_decay));
}

int mbn_op_fill_zero(MbnDevice *d, MbnBuf x, size_t n) {
    size_t g[1] = {n};
    return MBN_LAUNCH(d, MBN_K_fill_zero, 1, g, NULL, MEM(x), OFF(x), I(n));
}
