#include "base/error.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char last_error[1024];

int mbn_fail(int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return code;
}

int mbn_fail_context(int code, const char *fmt, ...) {
    char prefix[256], previous[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    snprintf(previous, sizeof previous, "%s", last_error);
    size_t n = strlen(prefix);
    memcpy(last_error, prefix, n);
    last_error[n++] = ':';
    last_error[n++] = ' ';
    size_t rest = strlen(previous);
    if (rest > sizeof last_error - 1 - n) rest = sizeof last_error - 1 - n;
    memcpy(last_error + n, previous, rest);
    last_error[n + rest] = 0;
    return code;
}

const char *mbn_last_error(void) {
    return last_error[0] ? last_error : "unknown error";
}
void mbn_clear_error(void) {
    last_error[0] = 0;
}

static void (*warning_rewrite)(char *msg, size_t cap);

void mbn_set_warning_rewrite(void (*rewrite)(char *msg, size_t cap)) {
    warning_rewrite = rewrite;
}

static pthread_mutex_t sink_lock = PTHREAD_MUTEX_INITIALIZER;
static void (*sink)(int level, const char *message, void *user);
static void *sink_user;

void mbn_log_set_callback(void (*fn)(int level, const char *message, void *user), void *user) {
    pthread_mutex_lock(&sink_lock);
    sink = fn;
    sink_user = user;
    pthread_mutex_unlock(&sink_lock);
}

void mbn_log_text(int level, const char *text) {
    pthread_mutex_lock(&sink_lock);
    void (*fn)(int, const char *, void *) = sink;
    void *user = sink_user;
    pthread_mutex_unlock(&sink_lock);
    if (fn)
        fn(level, text, user);
    else
        fprintf(stderr, "mbn: %s%s\n", level == MBN_LEVEL_WARNING ? "warning: " : "", text);
}

static void log_formatted(int level, const char *fmt, va_list ap) {
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (warning_rewrite) warning_rewrite(msg, sizeof msg);
    mbn_log_text(level, msg);
}

void mbn_warn(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    log_formatted(MBN_LEVEL_WARNING, fmt, ap);
    va_end(ap);
}

void mbn_note(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    log_formatted(MBN_LEVEL_NOTE, fmt, ap);
    va_end(ap);
}
