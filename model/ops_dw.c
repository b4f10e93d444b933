/* Depthwise 3x3 convolution (cl/depthwise.cl): forward, input gradient, weight gradient, each
 * through the variant the device resolved (host/variants.c). */
#include "model/ops_internal.h"

/* The weight gradient keeps partial[P, 9, C] (P <= MBN_OPS_MAX_PARTIALS chunks of rows). */
size_t mbn_ops_dw_scratch(size_t M, int C) {
    (void)M;
    return (size_t)MBN_OPS_MAX_PARTIALS * 9 * (size_t)C;
}

/* ---- gpu: dw_conv3x3_fwd_tile (cl/depthwise_gpu.cl) ---- */

/* epilogue 0 none, 1 bias + ReLU6, 3 statistics to `stats` (rows = N x tiles) */
static int dw_fwd_gpu(MbnDevice *d, const MbnVariantChoice *v, MbnBuf x, const MbnBnApply *in,
                      MbnBuf w, MbnBuf bias, int epilogue, MbnBuf y, int N, int H, int W, int C,
                      int stride, MbnBuf stats) {
    int Ho = mbn_conv_out(H, stride), Wo = mbn_conv_out(W, stride);
    size_t LC = (size_t)mbn_vparam(v, "LC"), LP = (size_t)mbn_vparam(v, "LP");
    size_t n_tiles = mbn_ops_dw_tiles(Ho, Wo, mbn_vparam(v, "TH"), mbn_vparam(v, "TW"));
    size_t g[3] = {((size_t)C + LC - 1) / LC * LC, n_tiles * LP, (size_t)N}, l[3] = {LC, LP, 1};
    MbnBuf any = w; /* any valid buffer for arguments a launch does not use */
    MbnBnApply none = {any, any, any, any, any};
    const MbnBnApply *bn = in ? in : &none;
    MbnBuf b = bias.mem ? bias : any, st = stats.mem ? stats : any;
    return MBN_LAUNCH(d, MBN_K_dw_conv3x3_fwd_tile, 3, g, l, MEM(x), OFF(x), MEM(w), OFF(w), MEM(b),
                      OFF(b), I(epilogue), MEM(y), OFF(y), I(N), I(H), I(W), I(C), I(Ho), I(Wo),
                      I(stride), I(in != NULL), MEM(bn->gamma), OFF(bn->gamma), MEM(bn->beta),
                      OFF(bn->beta), MEM(bn->mean), MEM(bn->invstd), OFF(bn->mean), MEM(bn->y),
                      OFF(bn->y), MEM(st), I((size_t)N * n_tiles));
}

int mbn_op_dw_fwd_train(MbnDevice *d, MbnBuf x, const MbnBnApply *in, MbnBuf w, MbnBuf z, int N,
                        int H, int W, int C, int stride, MbnBuf stats) {
    const MbnVariantChoice *v = &d->variants.op[MBN_OP_DW_FWD];
    if (v->row->family != MBN_FAMILY_GPU)
        return mbn_fail(MBN_EFAIL, "dw_fwd_train: needs the gpu depthwise row, not %s",
                        v->row->name);
    int Ho = mbn_conv_out(H, stride), Wo = mbn_conv_out(W, stride);
    size_t rows = mbn_ops_dw_stats_rows(d, N, Ho, Wo);
    MBN_TRY(mbn_ops_need_scratch(stats, mbn_ops_bn_stats_floats(rows, C), "depthwise statistics"));
    return dw_fwd_gpu(d, v, x, in, w, MBN_NOBUF, 3, z, N, H, W, C, stride, stats);
}

/* The fp16 path's gpu depthwise kernel (cl/half_gpu.cl): dw_conv3x3_fwd_tile's work-groups. */
static int dw_fwd_gpu_h(MbnDevice *d, const MbnVariantChoice *v, MbnBuf x, MbnBuf w, MbnBuf bias,
                        MbnBuf y, int N, int H, int W, int C, int stride) {
    int Ho = mbn_conv_out(H, stride), Wo = mbn_conv_out(W, stride);
    size_t LC = (size_t)mbn_vparam(v, "LC"), LP = (size_t)mbn_vparam(v, "LP");
    size_t n_tiles = mbn_ops_dw_tiles(Ho, Wo, mbn_vparam(v, "TH"), mbn_vparam(v, "TW"));
    size_t g[3] = {((size_t)C + LC - 1) / LC * LC, n_tiles * LP, (size_t)N}, l[3] = {LC, LP, 1};
    MbnBuf b = bias.mem ? bias : w; /* any valid buffer when unused */
    return MBN_LAUNCH(d, MBN_K_half_dw_conv3x3_tile, 3, g, l, MEM(x), OFF(x), MEM(w), OFF(w),
                      MEM(b), OFF(b), I(bias.mem != NULL), MEM(y), OFF(y), I(N), I(H), I(W), I(C),
                      I(Ho), I(Wo), I(stride));
}

/* ---- the ops ---- */

int mbn_op_dw_fwd(MbnDevice *d, MbnBuf x, MbnBuf w, MbnBuf bias, MbnBuf y, int N, int H, int W,
                  int C, int stride) {
    int Ho = mbn_conv_out(H, stride), Wo = mbn_conv_out(W, stride);
    cl_mem b = bias.mem ? bias.mem : w.mem; /* any valid buffer when unused */
    bool h = x.half;                        /* the fp16 path: x, w and y stored as half */
    if (w.half != h || y.half != h)
        return mbn_fail(MBN_EFAIL, "dw_fwd: x, w and y must all be half or all float");
    const MbnVariantChoice *v = mbn_variant_pick(d, MBN_OP_DW_FWD, C);
    if (v->row->family == MBN_FAMILY_GPU && h)
        return dw_fwd_gpu_h(d, v, x, w, bias, y, N, H, W, C, stride);
    if (v->row->family == MBN_FAMILY_GPU)
        return dw_fwd_gpu(d, v, x, NULL, w, bias, bias.mem ? 1 : 0, y, N, H, W, C, stride,
                          MBN_NOBUF);
    if (v->row->family == MBN_FAMILY_CPU) {
        /* One work-group per output row: C/V work-items of V channels each (V = the device's
         * vector width where the channels allow: one SIMD register per vector). */
        int vec = mbn_variant_cpu_width(&d->variants, v, C);
        size_t g[2] = {(size_t)C / vec, (size_t)N * Ho}, l[2] = {(size_t)C / vec, 1};
        if (l[0] > d->info.max_work_group) l[0] = 1;
        MbnKernelId k = vec == d->variants.cpu_vec
                            ? (h ? MBN_K_dw_conv3x3_fwd_vec_h : MBN_K_dw_conv3x3_fwd_vec)
                            : (h ? MBN_K_dw_conv3x3_fwd_half_h : MBN_K_dw_conv3x3_fwd_half);
        return MBN_LAUNCH(d, k, 2, g, l, MEM(x), OFF(x), MEM(w), OFF(w), KMEM(b), OFF(bias),
                          I(bias.mem != NULL), MEM(y), OFF(y), I(N), I(H), I(W), I(C), I(Ho), I(Wo),
                          I(stride));
    }
    size_t g[3] = {(size_t)C, (size_t)Wo, (size_t)N * Ho};
    return MBN_LAUNCH(d, h ? MBN_K_dw_conv3x3_fwd_h : MBN_K_dw_conv3x3_fwd, 3, g, NULL, MEM(x),
                      OFF(x), MEM(w), OFF(w), KMEM(b), OFF(bias), I(bias.mem != NULL), MEM(y),
                      OFF(y), I(N), I(H), I(W), I(C), I(Ho), I(Wo), I(stride));
}

int mbn_op_dw_bwd_input(MbnDevice *d, MbnBuf dy, MbnBuf w, MbnBuf dx, int N, int H, int W, int C,
                        int stride) {
    int Ho = mbn_conv_out(H, stride), Wo = mbn_conv_out(W, stride);
    const MbnVariantChoice *v = mbn_variant_pick(d, MBN_OP_DW_BWD_INPUT, C);
    if (v->row->family == MBN_FAMILY_GPU) {
        size_t LC = (size_t)mbn_vparam(v, "LC"), LP = (size_t)mbn_vparam(v, "LP");
        size_t n_tiles = mbn_ops_dw_tiles(H, W, mbn_vparam(v, "TH"), mbn_vparam(v, "TW"));
        size_t g[3] = {((size_t)C + LC - 1) / LC * LC, n_tiles * LP, (size_t)N};
        size_t l[3] = {LC, LP, 1};
        return MBN_LAUNCH(d, MBN_K_dw_conv3x3_bwd_input_tile, 3, g, l, MEM(dy), OFF(dy), MEM(w),
                          OFF(w), MEM(dx), OFF(dx), I(N), I(H), I(W), I(C), I(Ho), I(Wo),
                          I(stride));
    }
    if (v->row->family == MBN_FAMILY_CPU) {
        int vec = mbn_variant_cpu_width(&d->variants, v, C);
        size_t g[2] = {(size_t)C / vec, (size_t)N * H}, l[2] = {(size_t)C / vec, 1};
        if (l[0] > d->info.max_work_group) l[0] = 1;
        return MBN_LAUNCH(d,
                          vec == d->variants.cpu_vec ? MBN_K_dw_conv3x3_bwd_input_vec
                                                     : MBN_K_dw_conv3x3_bwd_input_half,
                          2, g, l, MEM(dy), OFF(dy), MEM(w), OFF(w), MEM(dx), OFF(dx), I(N), I(H),
                          I(W), I(C), I(Ho), I(Wo), I(stride));
    }
    size_t g[3] = {(size_t)C, (size_t)W, (size_t)N * H};
    return MBN_LAUNCH(d, MBN_K_dw_conv3x3_bwd_input, 3, g, NULL, MEM(dy), OFF(dy), MEM(w), OFF(w),
                      MEM(dx), OFF(dx), I(N), I(H), I(W), I(C), I(Ho), I(Wo), I(stride));
}

int mbn_op_dw_bwd_weight(MbnDevice *d, MbnBuf x, MbnBuf dy, MbnBuf dw, int N, int H, int W, int C,
                         int stride, MbnBuf scratch) {
    int Ho = mbn_conv_out(H, stride), Wo = mbn_conv_out(W, stride);
    const MbnVariantChoice *v = mbn_variant_pick(d, MBN_OP_DW_BWD_WEIGHT, C);
    MBN_TRY(mbn_ops_need_scratch(scratch, mbn_ops_dw_scratch((size_t)N * Ho * Wo, C),
                                 "depthwise weight gradient"));
    int P, rpc;
    /* Rows here are (n, oh) lines of Wo outputs each. */
    mbn_ops_chunking(v, (size_t)N * Ho, &P, &rpc);
    if (v->row->family == MBN_FAMILY_GPU) {
        size_t LC = (size_t)mbn_vparam(v, "LC"), LP = (size_t)mbn_vparam(v, "LP");
        size_t g1[2] = {((size_t)C + LC - 1) / LC * LC, (size_t)P * LP}, l1[2] = {LC, LP};
        MBN_TRY(MBN_LAUNCH(d, MBN_K_dw_conv3x3_bwd_weight_lanes, 2, g1, l1, MEM(x), OFF(x), MEM(dy),
                           OFF(dy), KMEM(scratch.mem), I(N), I(H), I(W), I(C), I(Ho), I(Wo),
                           I(stride), I(rpc)));
    } else {
        /* cpu: a vector or half a vector of channels per work-item; generic: one. */
        bool cpu = v->row->family == MBN_FAMILY_CPU;
        int vec = cpu ? mbn_variant_cpu_width(&d->variants, v, C) : 1;
        size_t g1[2] = {(size_t)C / vec, (size_t)P};
        MBN_TRY(MBN_LAUNCH(d,
                           !cpu                         ? MBN_K_dw_conv3x3_bwd_weight_partial
                           : vec == d->variants.cpu_vec ? MBN_K_dw_conv3x3_bwd_weight_partial_vec
                                                        : MBN_K_dw_conv3x3_bwd_weight_partial_half,
                           2, g1, NULL, MEM(x), OFF(x), MEM(dy), OFF(dy), KMEM(scratch.mem), I(N),
                           I(H), I(W), I(C), I(Ho), I(Wo), I(stride), I(rpc)));
    }
    size_t g2[1] = {(size_t)9 * C};
    return MBN_LAUNCH(d, MBN_K_channel_reduce_rows, 1, g2, NULL, KMEM(scratch.mem), I(P), I(9 * C),
                      KFLT(1.0f), MEM(dw), OFF(dw));
}

/* ---- depthwise + pointwise (cl/depthwise.cl: dw_pw_fwd_vec) ---- */

/* The register tile of the fused kernel: gemm.cpu_tiled's (the same defines). */
static int dwpw_tile(const MbnDevice *d, const char *name) {
    return mbn_vparam_or(&d->variants.op[MBN_OP_GEMM], name, 0);
}

/* Local memory of the fused kernel: one depthwise row and TM - 1 zero rows for the last
 * TM-row tile, of floats, or on the fp16 path of halves and the same as floats. */
static size_t dwpw_local_bytes(const MbnDevice *d, int Wo, int C, bool half) {
    return ((size_t)Wo + (size_t)dwpw_tile(d, "TM") - 1) * (size_t)C * (half ? 6 : sizeof(float));
}

/* Whether the cpu row's kernel takes this shape (no fallback counted); it needs the cpu GEMM
 * row, whose tile it shares. */
static bool dwpw_suits(MbnDevice *d, const MbnVariantChoice *v, int Ho, int Wo, int C, int Cout,
                       bool half) {
    int TM = dwpw_tile(d, "TM"), TN = dwpw_tile(d, "TN");
    return v->row->family == MBN_FAMILY_CPU &&
           d->variants.op[MBN_OP_GEMM].row->family == MBN_FAMILY_CPU && TM > 0 && TN > 0 &&
           C % d->variants.cpu_vec == 0 && Cout % TN == 0 &&
           ((size_t)Ho * Wo >= (size_t)mbn_vparam(v, "MIN_PIXELS") ||
            (mbn_vparam(v, "EXACT_ROWS") && Wo % TM == 0)) &&
           dwpw_local_bytes(d, Wo, C, half) <= d->info.local_mem_bytes;
}

bool mbn_op_dwpw_fused(MbnDevice *d, int Ho, int Wo, int C, int Cout) {
    return dwpw_suits(d, mbn_variant_pick(d, MBN_OP_DWPW_FWD, C), Ho, Wo, C, Cout, false);
}

bool mbn_op_dwpw_fused_h(MbnDevice *d, int Ho, int Wo, int C, int Cout) {
    return dwpw_suits(d, mbn_variant_pick(d, MBN_OP_DWPW_FWD, C), Ho, Wo, C, Cout, true);
}

int mbn_op_dwpw_fwd(MbnDevice *d, MbnBuf x, MbnBuf dw_w, MbnBuf dw_bias, MbnBuf wt, MbnBuf pw_bias,
                    MbnBuf y_dw, MbnBuf y, int N, int H, int W, int C, int stride, int Cout) {
    int Ho = mbn_conv_out(H, stride), Wo = mbn_conv_out(W, stride);
    bool h = x.half;
    if (!dwpw_suits(d, &d->variants.op[MBN_OP_DWPW_FWD], Ho, Wo, C, Cout, h)) {
        if (!y_dw.mem)
            return mbn_fail(MBN_EFAIL,
                            "dwpw_fwd: C %d -> %d at %dx%d does not run fused and no "
                            "buffer was given for the depthwise output",
                            C, Cout, Ho, Wo);
        MBN_TRY(mbn_op_dw_fwd(d, x, dw_w, dw_bias, y_dw, N, H, W, C, stride));
        return mbn_op_pw_fwd_t(d, y_dw, wt, pw_bias, y, (size_t)N * Ho * Wo, C, Cout);
    }
    const MbnVariantChoice *v = &d->variants.op[MBN_OP_DWPW_FWD];
    if (dw_w.half != h || wt.half != h || y.half != h)
        return mbn_fail(MBN_EFAIL, "dwpw_fwd: x, the weights and y must all be half or all float");
    size_t local_bytes = dwpw_local_bytes(d, Wo, C, h);
    /* Chunks of output channels: enough work-items for ROWS_PER_CU per compute unit, each
     * chunk a multiple of TN columns. The chunking changes which work-item computes an output,
     * not its sum: the same bits. */
    size_t TN = (size_t)dwpw_tile(d, "TN");
    size_t rows = (size_t)N * Ho, panels = (size_t)Cout / TN;
    size_t want =
        (size_t)mbn_vparam(v, "ROWS_PER_CU") * (d->info.compute_units ? d->info.compute_units : 1);
    size_t chunks = rows >= want ? 1 : (want + rows - 1) / rows;
    if (chunks > panels) chunks = panels;
    size_t per = (panels + chunks - 1) / chunks;
    chunks = (panels + per - 1) / per;
    size_t g[2] = {rows, chunks}, l[2] = {1, 1};
    return MBN_LAUNCH(d, h ? MBN_K_dw_pw_fwd_vec_h : MBN_K_dw_pw_fwd_vec, 2, g, l, MEM(x), OFF(x),
                      MEM(dw_w), OFF(dw_w), MEM(dw_bias), OFF(dw_bias), MEM(wt), OFF(wt),
                      I(mbn_ops_wt_packed(d)), MEM(pw_bias), OFF(pw_bias), MEM(y), OFF(y),
                      ((MbnKArg){local_bytes, NULL}), I(N), I(H), I(W), I(C), I(Ho), I(Wo),
                      I(stride), I(Cout), I((int)(per * TN)));
}
