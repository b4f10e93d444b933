#include "host/blas.h"

#include <clblast_c.h>

#include "host/device.h"
#include "host/cl_error.h"
#include "host/profile.h"

static void log_call(MbnDevice *dev, bool ta, bool tb, size_t m, size_t n, size_t k, size_t batch,
                     float beta) {
    MbnGemmLog *log = dev->gemm_log;
    if (log && log->n < MBN_GEMM_LOG_MAX)
        log->calls[log->n++] = (MbnGemmCall){ta, tb, m, n, k, batch, beta};
}

#define BLAS_STR2(x) #x
#define BLAS_STR(x) BLAS_STR2(x)

const char *mbn_clblast_version(void) {
    return BLAS_STR(CLBLAST_VERSION_MAJOR) "." BLAS_STR(CLBLAST_VERSION_MINOR) "." BLAS_STR(
        CLBLAST_VERSION_PATCH);
}

int mbn_gemm(MbnDevice *dev, bool trans_a, bool trans_b, size_t m, size_t n, size_t k, float alpha,
             cl_mem a, size_t a_off, size_t lda, cl_mem b, size_t b_off, size_t ldb, float beta,
             cl_mem c, size_t c_off, size_t ldc) {
    if (m == 0 || n == 0) return MBN_OK;
    cl_event *ev = mbn_profile_slot(dev);
    dev->launches++; /* one per GEMM call (CLBlast may enqueue helper kernels too) */
    log_call(dev, trans_a, trans_b, m, n, k, 1, beta);
    CLBlastStatusCode s =
        CLBlastSgemm(CLBlastLayoutRowMajor, trans_a ? CLBlastTransposeYes : CLBlastTransposeNo,
                     trans_b ? CLBlastTransposeYes : CLBlastTransposeNo, m, n, k, alpha, a, a_off,
                     lda, b, b_off, ldb, beta, c, c_off, ldc, &dev->queue, ev);
    if (s != CLBlastSuccess) {
        if (ev) *ev = NULL;
        const char *layer = mbn_profile_current(dev) ? mbn_profile_current(dev) : "?";
        return mbn_fail(MBN_EFAIL, "device %s: CLBlast SGEMM %zux%zux%zu (layer %s): %s",
                        dev->info.name, m, n, k, layer, mbn_clblast_error_name(s));
    }
    return MBN_OK;
}

int mbn_gemm_strided_batched(MbnDevice *dev, bool trans_a, bool trans_b, size_t m, size_t n,
                             size_t k, cl_mem a, size_t a_off, size_t lda, size_t a_stride,
                             cl_mem b, size_t b_off, size_t ldb, size_t b_stride, cl_mem c,
                             size_t c_off, size_t ldc, size_t c_stride, size_t batch_count) {
    if (m == 0 || n == 0 || batch_count == 0) return MBN_OK;
    cl_event *ev = mbn_profile_slot(dev);
    dev->launches++;
    log_call(dev, trans_a, trans_b, m, n, k, batch_count, 0.0f);
    CLBlastStatusCode s = CLBlastSgemmStridedBatched(
        CLBlastLayoutRowMajor, trans_a ? CLBlastTransposeYes : CLBlastTransposeNo,
        trans_b ? CLBlastTransposeYes : CLBlastTransposeNo, m, n, k, 1.0f, a, a_off, lda, a_stride,
        b, b_off, ldb, b_stride, 0.0f, c, c_off, ldc, c_stride, batch_count, &dev->queue, ev);
    if (s != CLBlastSuccess) {
        if (ev) *ev = NULL;
        const char *layer = mbn_profile_current(dev) ? mbn_profile_current(dev) : "?";
        return mbn_fail(MBN_EFAIL,
                        "device %s: CLBlast batched SGEMM %zux%zux%zu x%zu (layer %s): %s",
                        dev->info.name, m, n, k, batch_count, layer, mbn_clblast_error_name(s));
    }
    return MBN_OK;
}

void mbn_blas_release_programs(void) {
    CLBlastClearCache();
}
