#include "model/bn_stats.h"

#include "host/device.h"

size_t mbn_ops_dw_tiles(int Ho, int Wo, int TH, int TW) {
    return (size_t)((Ho + TH - 1) / TH) * (size_t)((Wo + TW - 1) / TW);
}

size_t mbn_ops_dw_stats_rows(MbnDevice *d, int N, int Ho, int Wo) {
    const MbnVariantChoice *v = &d->variants.op[MBN_OP_DW_FWD];
    if (v->row->family != MBN_FAMILY_GPU) return 0;
    return (size_t)N * mbn_ops_dw_tiles(Ho, Wo, mbn_vparam(v, "TH"), mbn_vparam(v, "TW"));
}

size_t mbn_ops_gemm_stats_rows(MbnDevice *d, size_t M) {
    const MbnVariantChoice *v = &d->variants.op[MBN_OP_GEMM];
    if (v->row->family != MBN_FAMILY_GPU) return 0;
    size_t BM = (size_t)mbn_vparam(v, "BM");
    return (M + BM - 1) / BM;
}

size_t mbn_ops_bn_stats_rows(MbnDevice *d, MbnOp producer, int N, int Ho, int Wo) {
    if (producer == MBN_OP_DW_FWD) return mbn_ops_dw_stats_rows(d, N, Ho, Wo);
    return mbn_ops_gemm_stats_rows(d, (size_t)N * Ho * Wo);
}

size_t mbn_ops_bn_stats_floats(size_t rows, int C) {
    return rows * (2 * (size_t)C + 1);
}
