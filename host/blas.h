/* CLBlast: the GEMMs behind the pointwise convolutions, the stem (as im2col x weights) and the
 * classifier, and per-device tuning of CLBlast's kernels. */
#ifndef MBN_HOST_BLAS_H
#define MBN_HOST_BLAS_H
#include <CL/cl.h>
#include <stdbool.h>
#include <stddef.h>

struct MbnDevice;

/* The CLBlast GEMMs a step issues, recorded while MbnDevice.gemm_log is set (`mbn tune` replays
 * them to time CLBlast's parameters on the network's real shapes). */
#define MBN_GEMM_LOG_MAX 256
typedef struct {
    bool trans_a, trans_b;
    size_t m, n, k, batch; /* batch: 1 for mbn_gemm, batch_count for the strided batched one */
    float beta;
} MbnGemmCall;
typedef struct MbnGemmLog {
    int n;
    MbnGemmCall calls[MBN_GEMM_LOG_MAX];
} MbnGemmLog;

/* "1.5.3": the CLBlast mbn was built against (`mbn --version`). */
const char *mbn_clblast_version(void);

/* Row-major C[m x n] = alpha * op(A)[m x k] * op(B)[k x n] + beta * C, offsets in floats.
 * Deterministic: CLBlast's GEMM kernels use no atomics and a fixed reduction order. */
int mbn_gemm(struct MbnDevice *dev, bool trans_a, bool trans_b, size_t m, size_t n, size_t k,
             float alpha, cl_mem a, size_t a_off, size_t lda, cl_mem b, size_t b_off, size_t ldb,
             float beta, cl_mem c, size_t c_off, size_t ldc);

/* batch_count GEMMs as above, operand i at offset + i * stride (CLBlast's strided batched GEMM). */
int mbn_gemm_strided_batched(struct MbnDevice *dev, bool trans_a, bool trans_b, size_t m, size_t n,
                             size_t k, cl_mem a, size_t a_off, size_t lda, size_t a_stride,
                             cl_mem b, size_t b_off, size_t ldb, size_t b_stride, cl_mem c,
                             size_t c_off, size_t ldc, size_t c_stride, size_t batch_count);

/* Empties CLBlast's cache of compiled programs (for every context: CLBlast cannot drop one),
 * so that none outlives the context it was built for. mbn_device_close calls it when the last
 * handle on a context closes; a later GEMM compiles CLBlast's kernels again. */
void mbn_blas_release_programs(void);

#endif
