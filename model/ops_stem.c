/* The stem (cl/conv_stem.cl): 3x3 conv, stride s, 3 -> Cout, as im2col patches [M, 27] times
 * the weight through the GEMM variants, or in inference on CPUs directly from the image
 * (row stem_fwd.cpu_direct). */
#include "model/ops_internal.h"

#include "host/blas.h"

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

int mbn_op_stem_bwd_weight(MbnDevice *d, MbnBuf patches, MbnBuf dz, MbnBuf dw, size_t M, int Cout,
                           MbnBuf scratch) {
    return mbn_ops_weight_grad(d, patches, dz, dw, M, 27, Cout, scratch, MBN_NOBUF);
}

int mbn_op_stem_fwd(MbnDevice *d, MbnBuf x, MbnBuf wt, MbnBuf bias, MbnBuf y, int N, int H, int W,
                    int stride, int Cout, MbnBuf patches) {
    const MbnVariantChoice *v = mbn_variant_pick(d, MBN_OP_STEM_FWD, Cout);
    int Ho = mbn_conv_out(H, stride), Wo = mbn_conv_out(W, stride);
    if (x.half || wt.half)
        return mbn_fail(MBN_EFAIL, "stem_fwd: the image and the stem's weight are float");
    if (y.half && !bias.mem)
        return mbn_fail(MBN_EFAIL, "stem_fwd: the fp16 path always has the folded bias");
    cl_mem b = bias.mem ? bias.mem : wt.mem; /* any valid buffer when unused */
    if (v->row->family == MBN_FAMILY_CPU) {
        /* one work-item per output row and TN-channel block (the cpu GEMM's tile width),
         * work-groups of one (as gemm.cl); epilogue bit 1: y holds halves */
        size_t TN = 2 * (size_t)d->variants.cpu_vec;
        size_t g[2] = {((size_t)Cout + TN - 1) / TN, (size_t)N * Ho}, l[2] = {1, 1};
        return MBN_LAUNCH(d, MBN_K_stem_conv3x3_direct, 2, g, l, MEM(x), OFF(x), MEM(wt), OFF(wt),
                          I(mbn_ops_wt_packed(d)), KMEM(b), OFF(bias),
                          I((bias.mem != NULL) | (y.half ? 2 : 0)), MEM(y), OFF(y), I(N), I(H),
                          I(W), I(Cout), I(Ho), I(Wo), I(stride));
    }
    if (y.half) { /* a row of one channel per work-item (cl/half.cl): no patches in fp16 */
        size_t g[2] = {(size_t)Cout, (size_t)N * Ho}, l[2] = {(size_t)Cout, 1};
        /* a work-group of the row's channels: PoCL runs them as one vector */
        bool whole = (size_t)Cout <= d->info.max_work_group;
        return MBN_LAUNCH(d, MBN_K_stem_conv3x3_h, 2, g, whole ? l : NULL, MEM(x), OFF(x), MEM(wt),
                          OFF(wt), I(mbn_ops_wt_packed(d)), KMEM(b), OFF(bias), MEM(y), OFF(y),
                          I(N), I(H), I(W), I(Cout), I(Ho), I(Wo), I(stride));
    }
    MBN_TRY(mbn_op_stem_im2col(d, x, N, H, W, stride, patches));
    return mbn_op_pw_fwd_t(d, patches, wt, bias, y, (size_t)N * Ho * Wo, 27, Cout);
}
