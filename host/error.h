/* Error reporting: every failing call records one line naming what failed
 * (file, layer, flag, device, OpenCL error by name) and returns a status.
 * The app prints it as "mbn: error: <line>" and exits with the status. */
#ifndef MBN_HOST_ERROR_H
#define MBN_HOST_ERROR_H
#include <stdarg.h>

#include <CL/cl.h>

enum {
    MBN_OK = 0,
    MBN_EFAIL = 1,  /* any runtime failure: exit status 1 */
    MBN_EUSAGE = 2, /* bad flag or value, missing input file: exit status 2 */
};

/* Records the message (printf-style) and returns code, so callers can write
 * `return mbn_fail(MBN_EFAIL, "...")`. */
int mbn_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prefixes the recorded message with more context: "ctx: previous message". */
int mbn_fail_context(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *mbn_last_error(void);
void mbn_clear_error(void);

/* Warnings go to stderr as "mbn: warning: ...". */
void mbn_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

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

/* Propagates a nonzero status from a call. */
#define MBN_TRY(call)                                                                              \
    do {                                                                                           \
        int mbn_rc_ = (call);                                                                      \
        if (mbn_rc_ != 0) return mbn_rc_;                                                          \
    } while (0)

#endif
