/* CLBlast's compiled programs do not outlive the device handles of their context: CLBlast keeps
 * them in a static cache (each holds a reference to the context) that it would otherwise empty
 * in an exit handler, after mbn released the context and possibly after the OpenCL runtime was
 * torn down (under oclgrind, `mbn infer` with the generic kernels aborted there with "corrupted
 * double-linked list", its answer lost). mbn_device_close empties the cache when the last handle
 * on a context closes (host/blas.h).
 *
 * Checked through the context's reference count, with one reference of the test's own: after
 * a CLBlast GEMM, closing the device leaves only that one; with a sibling handle, closing the
 * base first keeps CLBlast's programs (the sibling still runs GEMMs), closing the sibling then
 * leaves only the test's. Platforms whose count does not include programs cannot show it: SKIP. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/error.h"
#include "host/blas.h"
#include "tests/support/devutil.h"
#include "tests/support/testutil.h"

static cl_uint context_refs(cl_context c) {
    cl_uint n = 0;
    cl_int err = clGetContextInfo(c, CL_CONTEXT_REFERENCE_COUNT, sizeof n, &n, NULL);
    T_CHECK(err == CL_SUCCESS, "clGetContextInfo(CL_CONTEXT_REFERENCE_COUNT): %d", (int)err);
    return n;
}

/* The count once it stays the same for 50 ms (at most 3 s): a driver may drop the references
 * of finished commands (their events) a moment later, from its own thread. */
static cl_uint refs_stable(cl_context c) {
    cl_uint n = context_refs(c), last = n + 1;
    for (int i = 0; i < 60 && n != last; i++) {
        nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
        last = n;
        n = context_refs(c);
    }
    return n;
}

/* C[8x8] = A B with A = B = ones: every element 8. */
static void gemm_once(MbnDevice *dev) {
    float ones[64], c[64];
    for (int i = 0; i < 64; i++)
        ones[i] = 1.0f, c[i] = -1.0f;
    cl_int err;
    cl_mem a = clCreateBuffer(dev->context, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, sizeof ones,
                              ones, &err);
    T_CHECK(err == CL_SUCCESS, "clCreateBuffer: %d", (int)err);
    cl_mem m =
        clCreateBuffer(dev->context, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, sizeof c, c, &err);
    T_CHECK(err == CL_SUCCESS, "clCreateBuffer: %d", (int)err);
    T_MBN(mbn_gemm(dev, false, false, 8, 8, 8, 1.0f, a, 0, 8, a, 0, 8, 0.0f, m, 0, 8));
    T_CHECK(clEnqueueReadBuffer(dev->queue, m, CL_TRUE, 0, sizeof c, c, 0, NULL, NULL) ==
                CL_SUCCESS,
            "reading the GEMM result");
    int wrong = 0;
    for (int i = 0; i < 64; i++)
        wrong += c[i] != 8.0f;
    T_CHECK(wrong == 0, "the GEMM: %d of 64 elements are not 8", wrong);
    clReleaseMemObject(a);
    clReleaseMemObject(m);
}

int main(void) {
    MbnDevice dev, sib;
    tdev_open(&dev);
    cl_context ctx = dev.context;
    clRetainContext(ctx);
    cl_uint before = refs_stable(ctx);
    gemm_once(&dev);
    cl_uint after = refs_stable(ctx);
    if (after <= before) {
        printf("SKIP: this platform's context reference count (%u before a CLBlast GEMM, %u after) "
               "does not count CLBlast's programs\n",
               before, after);
        mbn_device_close(&dev);
        clReleaseContext(ctx);
        return T_SKIP_CODE;
    }
    mbn_device_close(&dev);
    cl_uint left = refs_stable(ctx);
    T_CHECK(left == 1,
            "after closing the device only the test's reference remains, not CLBlast's: %u", left);
    clReleaseContext(ctx);

    /* base + sibling: the sibling keeps CLBlast's programs while it is open */
    tdev_open(&dev);
    ctx = dev.context;
    clRetainContext(ctx);
    T_MBN(mbn_device_open_sibling(&sib, &dev));
    gemm_once(&sib);
    mbn_device_close(&dev);
    /* Emptying CLBlast's cache here would drop its references now and add them back with the
     * sibling's next GEMM (compiled again). */
    cl_uint sibling_only = refs_stable(ctx);
    gemm_once(&sib);
    cl_uint now = refs_stable(ctx);
    T_CHECK(now == sibling_only,
            "the sibling's GEMM found CLBlast's programs still cached: %u -> %u references",
            sibling_only, now);
    mbn_device_close(&sib);
    left = refs_stable(ctx);
    T_CHECK(left == 1, "after the last handle only the test's reference remains: %u", left);
    clReleaseContext(ctx);
    return t_summary("test_blas_context");
}
