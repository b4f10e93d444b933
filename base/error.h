/* Error reporting: every failing call records one line naming what failed
 * (file, layer, flag, device) and returns a status. The app prints it as
 * "mbn: error: <line>" and exits with the status. The message lives in
 * thread-local storage: the only state this layer keeps. No OpenCL here:
 * host/cl_error.h adds OpenCL and CLBlast error names on top. */
#ifndef MBN_BASE_ERROR_H
#define MBN_BASE_ERROR_H
#include <stdarg.h>

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

/* Propagates a nonzero status from a call. */
#define MBN_TRY(call)                                                                              \
    do {                                                                                           \
        int mbn_rc_ = (call);                                                                      \
        if (mbn_rc_ != 0) return mbn_rc_;                                                          \
    } while (0)

#endif
