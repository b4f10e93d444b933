#include "io/util/json_writer.h"

#include <inttypes.h>
#include <math.h>

void mbn_json_init(MbnJson *j, FILE *f) {
    j->f = f;
    j->depth = 0;
    j->need_comma[0] = false;
    j->after_key = false;
}

static void before_value(MbnJson *j) {
    if (j->after_key) {
        j->after_key = false;
        return;
    }
    if (j->need_comma[j->depth]) fputc(',', j->f);
    j->need_comma[j->depth] = true;
}

static void open(MbnJson *j, char c) {
    before_value(j);
    fputc(c, j->f);
    if (j->depth < 63) j->depth++;
    j->need_comma[j->depth] = false;
}

static void close_(MbnJson *j, char c) {
    fputc(c, j->f);
    if (j->depth > 0) j->depth--;
}

void mbn_json_begin_object(MbnJson *j) {
    open(j, '{');
}
void mbn_json_end_object(MbnJson *j) {
    close_(j, '}');
}
void mbn_json_begin_array(MbnJson *j) {
    open(j, '[');
}
void mbn_json_end_array(MbnJson *j) {
    close_(j, ']');
}

static void write_string(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':
            fputs("\\\"", f);
            break;
        case '\\':
            fputs("\\\\", f);
            break;
        case '\n':
            fputs("\\n", f);
            break;
        case '\r':
            fputs("\\r", f);
            break;
        case '\t':
            fputs("\\t", f);
            break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

void mbn_json_key(MbnJson *j, const char *key) {
    before_value(j);
    write_string(j->f, key);
    fputc(':', j->f);
    j->after_key = true;
}

void mbn_json_string(MbnJson *j, const char *s) {
    before_value(j);
    write_string(j->f, s ? s : "");
}

void mbn_json_int(MbnJson *j, int64_t v) {
    before_value(j);
    fprintf(j->f, "%" PRId64, v);
}

void mbn_json_double(MbnJson *j, double v) {
    before_value(j);
    if (isfinite(v))
        fprintf(j->f, "%.9g", v);
    else
        fputs("null", j->f);
}

void mbn_json_bool(MbnJson *j, bool v) {
    before_value(j);
    fputs(v ? "true" : "false", j->f);
}

void mbn_json_null(MbnJson *j) {
    before_value(j);
    fputs("null", j->f);
}

void mbn_json_finish(MbnJson *j) {
    fputc('\n', j->f);
    fflush(j->f);
}
