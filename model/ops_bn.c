/* BatchNorm + ReLU6 (cl/bn.cl) in training mode, forward and backward, through the device's
 * variants; BN folding and the bias + ReLU6 epilogue for inference (cl/activation.cl). */
#include "model/ops_internal.h"

/* Scratch layout: generic and cpu rows: partial sums [P, 2, C] (P <= MBN_OPS_MAX_PARTIALS; the
 * forward uses [P, C] twice: sums, then squared deviations), then the C summed squared
 * deviations; gpu row: a statistics buffer of P rows (mbn_ops_bn_stats_floats). */
#define SQ_OFF(C) ((size_t)MBN_OPS_MAX_PARTIALS * 2 * (size_t)(C))

size_t mbn_ops_bn_scratch(size_t M, int C) {
    (void)M;
    size_t a = SQ_OFF(C) + (size_t)C, b = mbn_ops_bn_stats_floats(MBN_OPS_MAX_PARTIALS, C);
    return a > b ? a : b;
}

/* ---- gpu: statistics as (count, mean, m2) per chunk or output tile (cl/bn_gpu.cl) ---- */

bool mbn_ops_bn_fused(MbnDevice *d) {
    const MbnVariantChoice *bn = &d->variants.op[MBN_OP_BN_FWD];
    return bn->row->family == MBN_FAMILY_GPU && mbn_vparam(bn, "FUSE") &&
           d->variants.op[MBN_OP_DW_FWD].row->family == MBN_FAMILY_GPU &&
           d->variants.op[MBN_OP_GEMM].row->family == MBN_FAMILY_GPU;
}

int mbn_op_bn_stats_finalize(MbnDevice *d, MbnBuf stats, size_t rows, size_t M, int C,
                             MbnBuf running_mean, MbnBuf running_var, float momentum, float eps,
                             MbnBuf save_mean, MbnBuf save_invstd) {
    if (save_mean.off != save_invstd.off)
        return mbn_fail(MBN_EFAIL, "bn: mean and invstd must share an offset");
    const MbnVariantChoice *v = &d->variants.op[MBN_OP_BN_FWD];
    if (v->row->family != MBN_FAMILY_GPU)
        return mbn_fail(MBN_EFAIL, "bn_stats_finalize: needs the gpu BatchNorm row, not %s",
                        v->row->name);
    MBN_TRY(mbn_ops_need_scratch(stats, mbn_ops_bn_stats_floats(rows, C), "BatchNorm statistics"));
    size_t LM = (size_t)mbn_vparam(v, "LM");
    size_t g[2] = {LM, (size_t)C}, l[2] = {LM, 1};
    return MBN_LAUNCH(d, MBN_K_bn_stats_merge, 2, g, l, MEM(stats), I(rows), I(rows), I(C), I(M),
                      MEM(save_mean), MEM(save_invstd), OFF(save_mean), MEM(running_mean),
                      OFF(running_mean), MEM(running_var), OFF(running_var), KFLT(momentum),
                      KFLT(eps));
}

int mbn_op_bn_relu6_apply(MbnDevice *d, MbnBuf z, const MbnBnApply *bn, size_t M, int C) {
    size_t ga[2] = {(size_t)C, M};
    return MBN_LAUNCH(d, MBN_K_bn_relu6_apply, 2, ga, NULL, MEM(z), OFF(z), MEM(bn->gamma),
                      OFF(bn->gamma), MEM(bn->beta), OFF(bn->beta), MEM(bn->mean), MEM(bn->invstd),
                      OFF(bn->mean), MEM(bn->y), OFF(bn->y), I(M), I(C));
}

/* Standalone statistics (tests, and the network when the fused path is off): chunks of rows
 * with LP lanes each, then the merge, then the apply pass. */
static int bn_train_gpu(MbnDevice *d, const MbnVariantChoice *v, MbnBuf z, MbnBuf gamma,
                        MbnBuf beta, MbnBuf running_mean, MbnBuf running_var, float momentum,
                        float eps, size_t M, int C, MbnBuf y, MbnBuf save_mean, MbnBuf save_invstd,
                        MbnBuf scratch) {
    int P, rpc;
    mbn_ops_chunking(v, M, &P, &rpc);
    size_t LC = (size_t)mbn_vparam(v, "LC"), LP = (size_t)mbn_vparam(v, "LP");
    size_t g[2] = {((size_t)C + LC - 1) / LC * LC, (size_t)P * LP}, l[2] = {LC, LP};
    MBN_TRY(MBN_LAUNCH(d, MBN_K_bn_stats_partial_lanes, 2, g, l, MEM(z), OFF(z), I(M), I(C), I(rpc),
                       MEM(scratch), I(P)));
    MBN_TRY(mbn_op_bn_stats_finalize(d, scratch, (size_t)P, M, C, running_mean, running_var,
                                     momentum, eps, save_mean, save_invstd));
    MbnBnApply bn = {gamma, beta, save_mean, save_invstd, y};
    return mbn_op_bn_relu6_apply(d, z, &bn, M, C);
}

int mbn_op_bn_relu6_train(MbnDevice *d, MbnBuf z, MbnBuf gamma, MbnBuf beta, MbnBuf running_mean,
                          MbnBuf running_var, float momentum, float eps, size_t M, int C, MbnBuf y,
                          MbnBuf save_mean, MbnBuf save_invstd, MbnBuf scratch) {
    if (save_mean.off != save_invstd.off)
        return mbn_fail(MBN_EFAIL, "bn: mean and invstd must share an offset");
    const MbnVariantChoice *vc = mbn_variant_pick(d, MBN_OP_BN_FWD, C);
    MBN_TRY(mbn_ops_need_scratch(scratch, mbn_ops_bn_scratch(M, C), "BatchNorm statistics"));
    if (vc->row->family == MBN_FAMILY_GPU)
        return bn_train_gpu(d, vc, z, gamma, beta, running_mean, running_var, momentum, eps, M, C,
                            y, save_mean, save_invstd, scratch);
    int P, rpc;
    mbn_ops_chunking(vc, M, &P, &rpc);
    /* cpu: a vector (or half of one, `half`) of channels per work-item; generic: one */
    int w = vc->row->family == MBN_FAMILY_CPU ? mbn_variant_cpu_width(&d->variants, vc, C) : 0;
    bool v = w > 0, half = v && w != d->variants.cpu_vec;
    size_t g2[2] = {(size_t)(v ? C / w : C), (size_t)P}, g1[1] = {(size_t)C};
    cl_mem s = scratch.mem;
    int sq_off = (int)SQ_OFF(C);
    MBN_TRY(MBN_LAUNCH(d,
                       !v     ? MBN_K_channel_sum_partial
                       : half ? MBN_K_channel_sum_partial_half
                              : MBN_K_channel_sum_partial_vec,
                       2, g2, NULL, MEM(z), OFF(z), KMEM(s), I(0), I(M), I(C), I(rpc)));
    MBN_TRY(MBN_LAUNCH(d, MBN_K_channel_reduce_rows, 1, g1, NULL, KMEM(s), I(P), I(C),
                       KFLT(1.0f / (float)M), MEM(save_mean), OFF(save_mean)));
    MBN_TRY(MBN_LAUNCH(d,
                       !v     ? MBN_K_channel_sqdev_partial
                       : half ? MBN_K_channel_sqdev_partial_half
                              : MBN_K_channel_sqdev_partial_vec,
                       2, g2, NULL, MEM(z), OFF(z), MEM(save_mean), OFF(save_mean), KMEM(s), I(M),
                       I(C), I(rpc)));
    MBN_TRY(MBN_LAUNCH(d, MBN_K_channel_reduce_rows, 1, g1, NULL, KMEM(s), I(P), I(C), KFLT(1.0f),
                       KMEM(s), I(sq_off)));
    MBN_TRY(MBN_LAUNCH(d, MBN_K_bn_finalize_stats, 1, g1, NULL, KMEM(s), I(sq_off), MEM(save_mean),
                       OFF(save_mean), MEM(save_invstd), MEM(running_mean), OFF(running_mean),
                       MEM(running_var), OFF(running_var), I(M), I(C), KFLT(momentum), KFLT(eps)));
    if (v)
        return MBN_LAUNCH(d, half ? MBN_K_bn_relu6_apply_half : MBN_K_bn_relu6_apply_vec, 2, g2,
                          NULL, MEM(z), OFF(z), MEM(gamma), OFF(gamma), MEM(beta), OFF(beta),
                          MEM(save_mean), MEM(save_invstd), OFF(save_mean), MEM(y), OFF(y), I(M),
                          I(C), I(rpc));
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
    const MbnVariantChoice *vc = mbn_variant_pick(d, MBN_OP_BN_BWD, C);
    MBN_TRY(mbn_ops_need_scratch(scratch, mbn_ops_bn_scratch(M, C), "BatchNorm backward"));
    int P, rpc;
    mbn_ops_chunking(vc, M, &P, &rpc);
    int w = vc->row->family == MBN_FAMILY_CPU ? mbn_variant_cpu_width(&d->variants, vc, C) : 0;
    bool v = w > 0, half = v && w != d->variants.cpu_vec;
    size_t g2[2] = {(size_t)(v ? C / w : C), (size_t)P}, g1[1] = {(size_t)C};
    cl_mem s = scratch.mem;
    if (vc->row->family == MBN_FAMILY_GPU) {
        size_t LC = (size_t)mbn_vparam(vc, "LC"), LP = (size_t)mbn_vparam(vc, "LP");
        size_t gl[2] = {((size_t)C + LC - 1) / LC * LC, (size_t)P * LP}, l[2] = {LC, LP};
        MBN_TRY(MBN_LAUNCH(d, MBN_K_bn_relu6_bwd_partial_lanes, 2, gl, l, MEM(dy), OFF(dy), MEM(z),
                           OFF(z), MEM(gamma), OFF(gamma), MEM(beta), OFF(beta), MEM(save_mean),
                           MEM(save_invstd), OFF(save_mean), KMEM(s), I(M), I(C), I(rpc)));
    } else {
        MBN_TRY(MBN_LAUNCH(d,
                           !v     ? MBN_K_bn_relu6_bwd_partial
                           : half ? MBN_K_bn_relu6_bwd_partial_half
                                  : MBN_K_bn_relu6_bwd_partial_vec,
                           2, g2, NULL, MEM(dy), OFF(dy), MEM(z), OFF(z), MEM(gamma), OFF(gamma),
                           MEM(beta), OFF(beta), MEM(save_mean), MEM(save_invstd), OFF(save_mean),
                           KMEM(s), I(M), I(C), I(rpc)));
    }
    MBN_TRY(MBN_LAUNCH(d, MBN_K_bn_bwd_finalize, 1, g1, NULL, KMEM(s), I(P), I(C), MEM(dgamma),
                       OFF(dgamma), MEM(dbeta), OFF(dbeta)));
    if (v)
        return MBN_LAUNCH(d, half ? MBN_K_bn_relu6_bwd_apply_half : MBN_K_bn_relu6_bwd_apply_vec, 2,
                          g2, NULL, MEM(dy), OFF(dy), MEM(z), OFF(z), MEM(gamma), OFF(gamma),
                          MEM(beta), OFF(beta), MEM(save_mean), MEM(save_invstd), OFF(save_mean),
                          MEM(dgamma), OFF(dgamma), MEM(dbeta), OFF(dbeta), MEM(dz), OFF(dz), I(M),
                          I(C), I(rpc));
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

int mbn_op_bn_fold_to(MbnDevice *d, MbnBuf w, MbnBuf gamma, MbnBuf beta, MbnBuf mean, MbnBuf var,
                      float eps, int C, int K, bool channel_minor, MbnFoldLayout layout,
                      MbnBuf w_out, MbnBuf b_out) {
    /* bn_fold_h's layouts: 0 as stored, 1 B = w'^T row-major, 2 B in gemm.cl's panels, 3 the
     * same padded to whole panels (half weights on the cpu gemm row: gemm_tiled_h) */
    int l = layout == MBN_FOLD_AS_STORED ? 0 : !mbn_ops_wt_packed(d) ? 1 : w_out.half ? 3 : 2;
    if (layout == MBN_FOLD_GEMM_B && channel_minor)
        return mbn_fail(MBN_EFAIL, "bn_fold_to: a GEMM operand from channel-minor weights");
    size_t g[1] = {(size_t)C * K};
    return MBN_LAUNCH(d, MBN_K_bn_fold_h, 1, g, NULL, MEM(w), OFF(w), MEM(gamma), OFF(gamma),
                      MEM(beta), OFF(beta), MEM(mean), OFF(mean), MEM(var), OFF(var), KFLT(eps),
                      I(C), I(K), I(channel_minor), I(l), I(w_out.half), MEM(w_out), OFF(w_out),
                      MEM(b_out), OFF(b_out));
}

int mbn_op_bias_relu6(MbnDevice *d, MbnBuf y, MbnBuf b, size_t M, int C) {
    size_t g[2] = {(size_t)C, M};
    return MBN_LAUNCH(d, MBN_K_bias_relu6, 2, g, NULL, MEM(y), OFF(y), MEM(b), OFF(b), I(M), I(C));
}
