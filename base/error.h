/* Error reporting: every failing call records one line naming what failed
 * (file, layer, parameter, device) and returns a status. The app prints it as
 * "mbn: error: <line>" and exits with the status. The message lives in
 * thread-local storage. No OpenCL here: host/cl_error.h adds OpenCL and
 * CLBlast error names on top.
 *
 * Parameters are named as the library knows them, in snake_case with their
 * value: "batch_size 0: must be at least 1", "resolution 20: must be between
 * 32 and 4096", "ckpt_dir runs/x: cannot create the folder". A one-word name
 * (alpha, resolution, device, milestones...) starts the message; a name with an
 * underscore may stand anywhere. The command line (apps/cli.c) rewrites these
 * names into the flags the user typed ("--batch-size 0: ..."); a C library user
 * sees the parameter names of the API. */
#ifndef MBN_BASE_ERROR_H
#define MBN_BASE_ERROR_H
#include <stdarg.h>
#include <stddef.h>

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

/* Warnings go to stderr as "mbn: warning: ...", notes (what a user should know that is not a
 * problem, such as the first run's kernel compilation) as "mbn: ...", through the rewrite below
 * when one is set, or to the log callback when one is set. Nothing goes to stdout. */
void mbn_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void mbn_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
enum { MBN_LEVEL_WARNING = 1, MBN_LEVEL_NOTE = 2 };
/* A message of any length (an OpenCL build log) at a level, as mbn_warn/mbn_note print it. */
void mbn_log_text(int level, const char *text);
/* Installs a rewrite applied to every warning and note before it is printed (in place, cap
 * bytes): the command line's parameter-to-flag wording. NULL removes it. */
void mbn_set_warning_rewrite(void (*rewrite)(char *msg, size_t cap));
/* Sends warnings and notes to fn(level, message without prefix, user) instead of stderr (the
 * library's mbn_set_log_callback); NULL restores stderr. Process-wide, safe from any thread. */
void mbn_log_set_callback(void (*fn)(int level, const char *message, void *user), void *user);

/* Propagates a nonzero status from a call. */
#define MBN_TRY(call)                                                                              \
    do {                                                                                           \
        int mbn_rc_ = (call);                                                                      \
        if (mbn_rc_ != 0) return mbn_rc_;                                                          \
    } while (0)

#endif
