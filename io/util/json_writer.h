/* A small streaming JSON writer (commas and string escaping handled), for --json output and
 * JSONL logs. */
#ifndef MBN_IO_UTIL_JSON_WRITER_H
#define MBN_IO_UTIL_JSON_WRITER_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct {
    FILE *f;
    int depth;
    bool need_comma[64];
    bool after_key;
} MbnJson;

void mbn_json_init(MbnJson *j, FILE *f);
void mbn_json_begin_object(MbnJson *j);
void mbn_json_end_object(MbnJson *j);
void mbn_json_begin_array(MbnJson *j);
void mbn_json_end_array(MbnJson *j);
void mbn_json_key(MbnJson *j, const char *key);
void mbn_json_string(MbnJson *j, const char *s);
void mbn_json_int(MbnJson *j, int64_t v);
void mbn_json_double(MbnJson *j, double v); /* non-finite values are written as null */
void mbn_json_bool(MbnJson *j, bool v);
void mbn_json_null(MbnJson *j);
/* Ends the document with a newline. */
void mbn_json_finish(MbnJson *j);

#endif
