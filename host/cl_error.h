/* OpenCL and CLBlast errors by name (CL_OUT_OF_RESOURCES, not -5), on top of base/error.h. */
#ifndef MBN_HOST_CL_ERROR_H
#define MBN_HOST_CL_ERROR_H
#include <CL/cl.h>

#include "base/error.h"

const char *mbn_cl_error_name(cl_int err);
const char *mbn_clblast_error_name(int status);

/* Checks an OpenCL call: on error records "<what>: CL_ERROR_NAME" and returns MBN_EFAIL
 * from the enclosing function. */
#define MBN_CL_CHECK(call, ...)                                                                    \
    do {                                                                                           \
        cl_int mbn_cl_err_ = (call);                                                               \
        if (mbn_cl_err_ != CL_SUCCESS) return mbn_fail_cl(mbn_cl_err_, __VA_ARGS__);               \
    } while (0)

int mbn_fail_cl(cl_int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
