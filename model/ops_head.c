/* The head: global average pooling (cl/pool.cl), the classifier (GEMM variants + bias),
 * softmax and the smoothed cross-entropy (cl/loss.cl). */
#include "model/ops_internal.h"

#include "host/blas.h"

/* The head's reductions keep nothing in the scratch beyond the loss's per-image values, which
 * callers add: mbn_ops_loss_scratch. */
size_t mbn_ops_head_scratch(size_t M, int C) {
    (void)M, (void)C;
    return 0;
}

size_t mbn_ops_loss_scratch(int N) {
    return (size_t)N;
}

int mbn_op_avgpool_fwd(MbnDevice *d, MbnBuf x, MbnBuf y, int N, int HW, int C) {
    /* A vector of channels per work-item where they allow (cl/pool.cl): the cpu width
     * (MBN_CPU_VEC, 4 on GPUs), else 4, else 1. x may be half (the fp16 path); y is float. */
    if (y.half) return mbn_fail(MBN_EFAIL, "avgpool: the pooled features are float");
    int wide = d->variants.cpu_vec;
    int vec = C % wide == 0 ? wide : C % 4 == 0 ? 4 : 1;
    size_t g[2] = {(size_t)(C / vec), (size_t)N};
    MbnKernelId k = vec == 4  ? (x.half ? MBN_K_avgpool_fwd4_h : MBN_K_avgpool_fwd4)
                    : vec > 4 ? (x.half ? MBN_K_avgpool_fwd_vec_h : MBN_K_avgpool_fwd_vec)
                              : (x.half ? MBN_K_avgpool_fwd_h : MBN_K_avgpool_fwd);
    return MBN_LAUNCH(d, k, 2, g, NULL, MEM(x), OFF(x), MEM(y), OFF(y), I(N), I(HW), I(C));
}

int mbn_op_avgpool_bwd(MbnDevice *d, MbnBuf dy, MbnBuf dx, int N, int HW, int C) {
    size_t g[3] = {(size_t)C, (size_t)HW, (size_t)N};
    return MBN_LAUNCH(d, MBN_K_avgpool_bwd, 3, g, NULL, MEM(dy), OFF(dy), MEM(dx), OFF(dx), I(N),
                      I(HW), I(C));
}

/* Kept for tests/test_ops_forward.c (the network runs mbn_op_fc_fwd_t): see ops.h. */
int mbn_op_fc_fwd(MbnDevice *d, MbnBuf x, MbnBuf w, MbnBuf b, MbnBuf y, int N, int C, int K) {
    MBN_TRY(mbn_gemm(d, false, true, (size_t)N, (size_t)K, (size_t)C, 1.0f, x.mem, x.off, (size_t)C,
                     w.mem, w.off, (size_t)C, 0.0f, y.mem, y.off, (size_t)K));
    size_t g[2] = {(size_t)K, (size_t)N};
    return MBN_LAUNCH(d, MBN_K_bias_add_rows, 2, g, NULL, MEM(y), OFF(y), MEM(b), OFF(b), I(N),
                      I(K));
}

int mbn_op_fc_fwd_t(MbnDevice *d, MbnBuf x, MbnBuf wt, MbnBuf b, MbnBuf y, int N, int C, int K) {
    return mbn_ops_gemm_wt(d, x, (size_t)C, wt, y, (size_t)K, b, MBN_EP_BIAS, (size_t)N, (size_t)K,
                           (size_t)C);
}

int mbn_op_classifier(MbnDevice *d, MbnBuf x, MbnBuf w, MbnBuf b, MbnBuf y, int N, int C, int K) {
    if (x.half || w.half || b.half || y.half)
        return mbn_fail(MBN_EFAIL, "classifier: features, weights and logits are float");
    /* a class per work-item, every row; on CPUs work-groups of one (its vectors are explicit) */
    size_t g[1] = {(size_t)K}, l[1] = {1};
    bool cpu = mbn_variant_pick(d, MBN_OP_GEMM, 1)->row->family == MBN_FAMILY_CPU;
    return MBN_LAUNCH(d, MBN_K_classifier_rows, 1, g, cpu ? l : NULL, MEM(x), OFF(x), MEM(w),
                      OFF(w), MEM(b), OFF(b), MEM(y), OFF(y), I(N), I(C), I(K));
}

int mbn_op_fc_bwd(MbnDevice *d, MbnBuf x, MbnBuf w, MbnBuf dy, MbnBuf dx, MbnBuf dw, MbnBuf db,
                  int N, int C, int K, MbnBuf scratch) {
    (void)scratch;
    /* dx[N, C] = dy[N, K] w[K, C] */
    if (dx.mem)
        MBN_TRY(mbn_ops_gemm(d, dy, (size_t)K, false, w, (size_t)C, dx, (size_t)C, MBN_NOBUF,
                             MBN_EP_NONE, (size_t)N, (size_t)C, (size_t)K));
    /* dw[K, C] = dy^T x: dy [N, K] read as the transposed A operand (N is a batch: no split) */
    MBN_TRY(mbn_ops_gemm(d, dy, (size_t)K, true, x, (size_t)C, dw, (size_t)C, MBN_NOBUF,
                         MBN_EP_NONE, (size_t)K, (size_t)C, (size_t)N));
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
    MBN_TRY(mbn_ops_need_scratch(scratch, mbn_ops_loss_scratch(N), "loss"));
    size_t g[1] = {(size_t)N};
    MBN_TRY(MBN_LAUNCH(d, MBN_K_softmax_xent_smooth, 1, g, NULL, MEM(logits), OFF(logits),
                       MEM(labels), OFF(labels), I(N), I(K), KFLT(smoothing), MEM(dlogits),
                       OFF(dlogits), KMEM(scratch.mem)));
    size_t one[1] = {1};
    return MBN_LAUNCH(d, MBN_K_mean_reduce, 1, one, NULL, KMEM(scratch.mem), I(N), MEM(loss),
                      OFF(loss));
}
