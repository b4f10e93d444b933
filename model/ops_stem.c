/* The stem (cl/conv_stem.cl): 3x3 conv, stride s, 3 -> Cout, as im2col patches [M, 27] times
 * the weight through the GEMM variants. */
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
