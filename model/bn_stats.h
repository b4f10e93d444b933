/* The geometry of the fused training forward's BatchNorm statistics (model/ops.h, "BatchNorm
 * fused into its neighbours"): how many rows (output tiles) the producers write, the depthwise
 * (dw_fwd's gpu row, TH x TW tiles) and the GEMM (gemm's gpu row, BM-row tiles), and how many
 * floats a buffer of such rows takes. One file that the producers (model/ops_dw.c,
 * model/ops_gemm.c), the consumer (model/ops_bn.c) and the network's allocation (model/net.c)
 * include; it calls none of them. */
#ifndef MBN_MODEL_BN_STATS_H
#define MBN_MODEL_BN_STATS_H
#include <stddef.h>

#include "host/variants.h"

struct MbnDevice;

/* Output tiles of TH x TW over an Ho x Wo image. */
size_t mbn_ops_dw_tiles(int Ho, int Wo, int TH, int TW);
/* Statistics rows of the depthwise producer for N images of Ho x Wo (0 unless its row is gpu). */
size_t mbn_ops_dw_stats_rows(struct MbnDevice *d, int N, int Ho, int Wo);
/* Statistics rows of the GEMM producer for M output rows (0 unless its row is gpu). */
size_t mbn_ops_gemm_stats_rows(struct MbnDevice *d, size_t M);
/* Rows (output tiles) of the statistics an op writes for an output of N images of Ho x Wo:
 * `producer` is MBN_OP_GEMM (the stem and pointwise convs, M = N*Ho*Wo rows) or MBN_OP_DW_FWD. */
size_t mbn_ops_bn_stats_rows(struct MbnDevice *d, MbnOp producer, int N, int Ho, int Wo);
/* Floats of a statistics buffer with `rows` rows of C channels: mean and m2 [rows, C], count
 * [rows]. */
size_t mbn_ops_bn_stats_floats(size_t rows, int C);

#endif
