/* Shared by the model/ops_*.c files (one per op family of cl/): launch-argument shorthands, the
 * two-stage reduction chunking, scratch checks and the GEMM dispatcher. Not for callers of
 * model/ops.h. */
#ifndef MBN_MODEL_OPS_INTERNAL_H
#define MBN_MODEL_OPS_INTERNAL_H
#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "host/device.h"
#include "host/kernels.h"
#include "host/variants.h"
#include "model/bn_stats.h"
#include "model/ops.h"

#define I(x) KINT(x)
#define MEM(b) KMEM((b).mem)
#define OFF(b) KINT((b).off)

/* Two-stage reductions over `rows` rows: at most CHUNKS chunks (capped at MBN_OPS_MAX_PARTIALS)
 * of at least MIN_ROWS rows, the parameters of the variant row v. Fixed for a given row count
 * and parameters, so the same bits every run. */
void mbn_ops_chunking(const MbnVariantChoice *v, size_t rows, int *chunks, int *rows_per_chunk);

/* Fails (naming the op) when `scratch` holds fewer than `floats` floats from its offset. */
int mbn_ops_need_scratch(MbnBuf scratch, size_t floats, const char *op);

/* GEMM epilogues applied to C = op(A) B before it is stored. */
typedef enum {
    MBN_EP_NONE = 0,
    MBN_EP_BIAS_RELU6 = 1, /* clamp(c + bias[n], 0, 6): folded BN, inference */
    MBN_EP_BIAS = 2,       /* c + bias[n]: the classifier */
    MBN_EP_STATS = 3,      /* BatchNorm statistics per row tile (gpu rows only) */
} MbnEpilogue;

/* C[M, N] (row stride ldc) = op(A) B (+ epilogue with bias), A [M, K] row-major with stride lda
 * or stored transposed ([K, M], a_trans), B [K, N] with stride ldb: through the device's gemm
 * variant (gemm.cl's tiled kernels or CLBlast and a bias pass). */
int mbn_ops_gemm(MbnDevice *d, MbnBuf a, size_t lda, bool a_trans, MbnBuf b, size_t ldb, MbnBuf c,
                 size_t ldc, MbnBuf bias, MbnEpilogue ep, size_t M, size_t N, size_t K);
/* The same with B = a forward weight operand made by mbn_op_transpose ([K, N] transposed, or
 * packed panels where the gemm variant reads those). */
int mbn_ops_gemm_wt(MbnDevice *d, MbnBuf a, size_t lda, MbnBuf wt, MbnBuf c, size_t ldc,
                    MbnBuf bias, MbnEpilogue ep, size_t M, size_t N, size_t K);

/* Whether mbn_op_transpose packs the forward weights in gemm.cl's 32-column panels (the
 * device's gemm row is the cpu one) rather than writing them row-major [K, N]. */
bool mbn_ops_wt_packed(MbnDevice *d);

/* dw[Cout, K] = dy[M, Cout]^T x[M, K]: the weight gradient through the device's gemm_wgrad
 * variant (split K into chunks whose partials go to `scratch`, added in order). `work` (M x
 * Cout floats the op may overwrite, or NOBUF) lets the cpu variant transpose dy first. */
int mbn_ops_weight_grad(MbnDevice *d, MbnBuf x, MbnBuf dy, MbnBuf dw, size_t M, int K, int Cout,
                        MbnBuf scratch, MbnBuf work);

#endif
