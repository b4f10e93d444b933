/* BatchNorm + ReLU6 (cl/bn.cl) in training mode, forward and backward, through the device's
 * variants; BN folding and the bias + ReLU6 epilogue for inference (cl/activation.cl). */
#include "model/ops_internal.h"

/* Scratch layout: partial sums [P, 2, C] (P <= MBN_OPS_MAX_PARTIALS; the forward uses [P, C]
 * twice: sums, then squared deviations), then the C summed squared deviations. */
#define SQ_OFF(C) ((size_t)MBN_OPS_MAX_PARTIALS * 2 * (size_t)(C))

size_t mbn_ops_bn_scratch(size_t M, int C) {
    (void)M;
    return SQ_OFF(C) + (size_t)C;
}

int mbn_op_bn_relu6_train(MbnDevice *d, MbnBuf z, MbnBuf gamma, MbnBuf beta, MbnBuf running_mean,
                          MbnBuf running_var, float momentum, float eps, size_t M, int C, MbnBuf y,
                          MbnBuf save_mean, MbnBuf save_invstd, MbnBuf scratch) {
    if (save_mean.off != save_invstd.off)
        return mbn_fail(MBN_EFAIL, "bn: mean and invstd must share an offset");
    const MbnVariantChoice *vc = mbn_variant_pick(d, MBN_OP_BN_FWD, C);
    MBN_TRY(mbn_ops_need_scratch(scratch, mbn_ops_bn_scratch(M, C), "BatchNorm statistics"));
    int P, rpc;
    mbn_ops_chunking(vc, M, &P, &rpc);
    bool v = vc->row->family == MBN_FAMILY_CPU;
    size_t g2[2] = {(size_t)(v ? C / 8 : C), (size_t)P}, g1[1] = {(size_t)C};
    cl_mem s = scratch.mem;
    int sq_off = (int)SQ_OFF(C);
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
    const MbnVariantChoice *vc = mbn_variant_pick(d, MBN_OP_BN_BWD, C);
    MBN_TRY(mbn_ops_need_scratch(scratch, mbn_ops_bn_scratch(M, C), "BatchNorm backward"));
    int P, rpc;
    mbn_ops_chunking(vc, M, &P, &rpc);
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
