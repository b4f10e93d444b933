/* A small strict JSON parser (RFC 8259) for untrusted input such as safetensors headers: every
 * read is bounds-checked, nesting depth and the total number of values are limited, strings
 * must be valid UTF-8 without raw control characters, and anything after the top-level value
 * other than whitespace is an error. The result is a tree the caller frees with
 * mbn_jsonv_free. */
#ifndef MBN_IO_FORMATS_JSON_PARSE_H
#define MBN_IO_FORMATS_JSON_PARSE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MBN_JSON_MAX_DEPTH 64

typedef enum {
    MBN_JSONV_NULL,
    MBN_JSONV_BOOL,
    MBN_JSONV_NUMBER,
    MBN_JSONV_STRING,
    MBN_JSONV_ARRAY,
    MBN_JSONV_OBJECT,
} MbnJsonvType;

typedef struct MbnJsonv {
    MbnJsonvType type;
    bool b;
    double num;
    /* Numbers written without fraction or exponent that fit int64 are also kept exactly here,
     * because doubles lose integers above 2^53 (byte offsets must be exact). */
    bool is_int;
    int64_t i;
    char *str; /* NUL-terminated UTF-8; str_len excludes the NUL (a \u0000 escape is kept) */
    size_t str_len;
    /* Arrays and objects: count children; objects also have keys (same index). */
    struct MbnJsonv *items;
    char **keys;
    size_t *key_lens;
    int count;
} MbnJsonv;

typedef struct {
    int max_depth;      /* 0: MBN_JSON_MAX_DEPTH */
    int64_t max_values; /* 0: no limit besides memory; bounds memory on hostile input */
    bool reject_duplicate_keys;
} MbnJsonParseOptions;

/* Parses text[0, len) into *out. On error returns MBN_EFAIL with one line recorded
 * ("JSON: <what> at byte N") and *out is left empty. opts may be NULL (defaults, duplicates
 * rejected). */
int mbn_jsonv_parse(const char *text, size_t len, const MbnJsonParseOptions *opts, MbnJsonv *out);
void mbn_jsonv_free(MbnJsonv *v);

/* Object member by key (NULL when v is not an object or has no such key). */
const MbnJsonv *mbn_jsonv_get(const MbnJsonv *v, const char *key);

#endif
