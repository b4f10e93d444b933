#include "io/formats/json_parse.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

typedef struct {
    const unsigned char *p, *end, *start;
    int depth, max_depth;
    int64_t values, max_values;
    bool reject_dup;
    bool failed;
} Parser;

static int fail(Parser *ps, const char *what) {
    if (!ps->failed)
        mbn_fail(MBN_EFAIL, "JSON: %s at byte %lld", what, (long long)(ps->p - ps->start));
    ps->failed = true;
    return MBN_EFAIL;
}

static void skip_ws(Parser *ps) {
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static bool literal(Parser *ps, const char *word) {
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0) return false;
    ps->p += n;
    return true;
}

static int hex4(Parser *ps, unsigned *out) {
    if (ps->end - ps->p < 4) return fail(ps, "truncated \\u escape");
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        unsigned c = ps->p[k], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return fail(ps, "bad hex digit in \\u escape");
        v = v * 16 + d;
    }
    ps->p += 4;
    *out = v;
    return MBN_OK;
}

static size_t put_utf8(unsigned char *o, unsigned cp) {
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | (cp >> 18));
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlongs, no surrogates, <= U+10FFFF),
 * or 0. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end) {
    unsigned c = p[0];
    size_t n;
    unsigned min, cp;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2, min = 0x80, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3, min = 0x800, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4, min = 0x10000, cp = c & 0x07;
    else
        return 0;
    if ((size_t)(end - p) < n) return 0;
    for (size_t k = 1; k < n; k++) {
        if ((p[k] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (p[k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return n;
}

/* Parses a string starting at the opening quote into a fresh NUL-terminated buffer. The decoded
 * text is never longer than the source, so one allocation of the source length suffices. */
static int parse_string(Parser *ps, char **out, size_t *out_len) {
    ps->p++; /* opening quote */
    const unsigned char *q = ps->p;
    while (q < ps->end && *q != '"')
        q += (*q == '\\' && q + 1 < ps->end) ? 2 : 1;
    if (q >= ps->end) return fail(ps, "unterminated string");
    unsigned char *buf = malloc((size_t)(q - ps->p) + 1);
    if (!buf) return fail(ps, "out of memory");
    size_t n = 0;
    while (*ps->p != '"') {
        unsigned c = *ps->p;
        if (c < 0x20) {
            free(buf);
            return fail(ps, "control character in string");
        }
        if (c != '\\') {
            size_t k = utf8_len(ps->p, ps->end);
            if (!k) {
                free(buf);
                return fail(ps, "invalid UTF-8 in string");
            }
            memcpy(buf + n, ps->p, k);
            n += k;
            ps->p += k;
            continue;
        }
        ps->p++;
        unsigned e = *ps->p++;
        switch (e) {
        case '"':
            buf[n++] = '"';
            break;
        case '\\':
            buf[n++] = '\\';
            break;
        case '/':
            buf[n++] = '/';
            break;
        case 'b':
            buf[n++] = '\b';
            break;
        case 'f':
            buf[n++] = '\f';
            break;
        case 'n':
            buf[n++] = '\n';
            break;
        case 'r':
            buf[n++] = '\r';
            break;
        case 't':
            buf[n++] = '\t';
            break;
        case 'u': {
            unsigned cp, lo;
            if (hex4(ps, &cp)) break;
            if (cp >= 0xDC00 && cp <= 0xDFFF) {
                fail(ps, "unpaired low surrogate");
                break;
            }
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (!literal(ps, "\\u") || hex4(ps, &lo) || lo < 0xDC00 || lo > 0xDFFF) {
                    fail(ps, "unpaired high surrogate");
                    break;
                }
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            /* \uXXXX (6 source bytes) yields at most 3 bytes; a pair (12) yields 4. */
            n += put_utf8(buf + n, cp);
            break;
        }
        default:
            fail(ps, "bad escape in string");
        }
        if (ps->failed) {
            free(buf);
            return MBN_EFAIL;
        }
    }
    ps->p++; /* closing quote */
    buf[n] = 0;
    *out = (char *)buf;
    *out_len = n;
    return MBN_OK;
}

static bool is_digit(const unsigned char *p, const unsigned char *end) {
    return p < end && *p >= '0' && *p <= '9';
}

static int parse_number(Parser *ps, MbnJsonv *v) {
    const unsigned char *s = ps->p, *q = ps->p;
    bool integral = true;
    if (q < ps->end && *q == '-') q++;
    if (!is_digit(q, ps->end)) return fail(ps, "bad number");
    if (*q == '0')
        q++;
    else
        while (is_digit(q, ps->end))
            q++;
    if (q < ps->end && *q == '.') {
        integral = false;
        q++;
        if (!is_digit(q, ps->end)) return fail(ps, "bad number fraction");
        while (is_digit(q, ps->end))
            q++;
    }
    if (q < ps->end && (*q == 'e' || *q == 'E')) {
        integral = false;
        q++;
        if (q < ps->end && (*q == '+' || *q == '-')) q++;
        if (!is_digit(q, ps->end)) return fail(ps, "bad number exponent");
        while (is_digit(q, ps->end))
            q++;
    }
    /* strtod needs a terminated copy; numbers longer than this are not meaningful anyway. */
    char tmp[64], loc[72];
    size_t n = (size_t)(q - s);
    if (n >= sizeof tmp) return fail(ps, "number too long");
    memcpy(tmp, s, n);
    tmp[n] = 0;
    v->type = MBN_JSONV_NUMBER;
    /* strtod follows LC_NUMERIC; JSON's decimal point is always '.', so swap in the locale's. */
    const char *dp = localeconv()->decimal_point;
    char *dot = strchr(tmp, '.');
    if (dot && dp && strcmp(dp, ".") != 0 && strlen(dp) < 8) {
        snprintf(loc, sizeof loc, "%.*s%s%s", (int)(dot - tmp), tmp, dp, dot + 1);
        v->num = strtod(loc, NULL);
    } else {
        v->num = strtod(tmp, NULL);
    }
    if (integral) {
        const char *d = tmp + (tmp[0] == '-');
        uint64_t acc = 0;
        bool ok = true;
        for (; *d; d++) {
            unsigned dig = (unsigned)(*d - '0');
            if (acc > (UINT64_MAX - dig) / 10) {
                ok = false;
                break;
            }
            acc = acc * 10 + dig;
        }
        if (ok && tmp[0] == '-' && acc <= (uint64_t)INT64_MAX + 1) {
            v->is_int = true;
            v->i = acc == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)acc;
        } else if (ok && tmp[0] != '-' && acc <= (uint64_t)INT64_MAX) {
            v->is_int = true;
            v->i = (int64_t)acc;
        }
    }
    ps->p = q;
    return MBN_OK;
}

static int parse_value(Parser *ps, MbnJsonv *v);

/* Appends a zeroed child slot, growing geometrically. */
static MbnJsonv *push_child(Parser *ps, MbnJsonv *v, int *cap, bool with_key) {
    if (v->count == *cap) {
        int nc = *cap ? *cap * 2 : 4;
        if (nc > (1 << 28)) {
            fail(ps, "too many members");
            return NULL;
        }
        MbnJsonv *items = realloc(v->items, (size_t)nc * sizeof *items);
        if (!items) {
            fail(ps, "out of memory");
            return NULL;
        }
        v->items = items;
        if (with_key) {
            char **keys = realloc(v->keys, (size_t)nc * sizeof *keys);
            if (!keys) {
                fail(ps, "out of memory");
                return NULL;
            }
            v->keys = keys;
            size_t *lens = realloc(v->key_lens, (size_t)nc * sizeof *lens);
            if (!lens) {
                fail(ps, "out of memory");
                return NULL;
            }
            v->key_lens = lens;
        }
        *cap = nc;
    }
    MbnJsonv *c = &v->items[v->count];
    memset(c, 0, sizeof *c);
    if (with_key) v->keys[v->count] = NULL;
    return c;
}

typedef struct {
    const char *s;
    size_t n;
} Key;

static int key_cmp(const void *a, const void *b) {
    const Key *x = a, *y = b;
    size_t n = x->n < y->n ? x->n : y->n;
    int c = memcmp(x->s, y->s, n);
    return c ? c : (x->n > y->n) - (x->n < y->n);
}

/* Sorting keeps this O(n log n): a pairwise check would let a hostile header with a million
 * keys hang the reader. */
static bool has_duplicate_key(const MbnJsonv *v) {
    if (v->count < 2) return false;
    Key *keys = malloc((size_t)v->count * sizeof *keys);
    if (!keys) return true; /* reported as an error either way; refusing is the safe side */
    for (int k = 0; k < v->count; k++)
        keys[k] = (Key){v->keys[k], v->key_lens[k]};
    qsort(keys, (size_t)v->count, sizeof *keys, key_cmp);
    bool dup = false;
    for (int k = 1; k < v->count && !dup; k++)
        dup = key_cmp(&keys[k - 1], &keys[k]) == 0;
    free(keys);
    return dup;
}

static int parse_container(Parser *ps, MbnJsonv *v, bool object) {
    v->type = object ? MBN_JSONV_OBJECT : MBN_JSONV_ARRAY;
    char close = object ? '}' : ']';
    if (++ps->depth > ps->max_depth) return fail(ps, "nesting too deep");
    ps->p++;
    skip_ws(ps);
    int cap = 0;
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        ps->depth--;
        return MBN_OK;
    }
    for (;;) {
        skip_ws(ps);
        MbnJsonv *c = push_child(ps, v, &cap, object);
        if (!c) return MBN_EFAIL;
        if (object) {
            if (ps->p >= ps->end || *ps->p != '"') return fail(ps, "expected a string key");
            char *key;
            size_t klen;
            if (parse_string(ps, &key, &klen)) return MBN_EFAIL;
            v->keys[v->count] = key;
            v->key_lens[v->count] = klen;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') {
                v->count++; /* so the key is freed */
                return fail(ps, "expected ':'");
            }
            ps->p++;
        }
        v->count++; /* counted before parsing so a failure frees the partial child */
        if (parse_value(ps, c)) return MBN_EFAIL;
        skip_ws(ps);
        if (ps->p >= ps->end) return fail(ps, "unexpected end of input");
        if (*ps->p == ',') {
            ps->p++;
            continue;
        }
        if (*ps->p == close) {
            ps->p++;
            break;
        }
        return fail(ps, object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
    ps->depth--;
    if (object && ps->reject_dup && has_duplicate_key(v)) return fail(ps, "duplicate key");
    return MBN_OK;
}

static int parse_value(Parser *ps, MbnJsonv *v) {
    skip_ws(ps);
    if (ps->p >= ps->end) return fail(ps, "unexpected end of input");
    if (ps->max_values && ++ps->values > ps->max_values) return fail(ps, "too many values");
    switch (*ps->p) {
    case '{':
        return parse_container(ps, v, true);
    case '[':
        return parse_container(ps, v, false);
    case '"':
        v->type = MBN_JSONV_STRING;
        return parse_string(ps, &v->str, &v->str_len);
    case 't':
    case 'f':
    case 'n':
        if (literal(ps, "true"))
            v->type = MBN_JSONV_BOOL, v->b = true;
        else if (literal(ps, "false"))
            v->type = MBN_JSONV_BOOL, v->b = false;
        else if (literal(ps, "null"))
            v->type = MBN_JSONV_NULL;
        else
            return fail(ps, "unexpected token");
        return MBN_OK;
    default:
        if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9')) return parse_number(ps, v);
        return fail(ps, "unexpected character");
    }
}

int mbn_jsonv_parse(const char *text, size_t len, const MbnJsonParseOptions *opts, MbnJsonv *out) {
    Parser ps = {0};
    ps.p = ps.start = (const unsigned char *)text;
    ps.end = ps.p + len;
    ps.max_depth = opts && opts->max_depth > 0 ? opts->max_depth : MBN_JSON_MAX_DEPTH;
    ps.max_values = opts ? opts->max_values : 0;
    ps.reject_dup = opts ? opts->reject_duplicate_keys : true;
    memset(out, 0, sizeof *out);
    if (parse_value(&ps, out) == MBN_OK) {
        skip_ws(&ps);
        if (ps.p != ps.end) fail(&ps, "trailing characters after the document");
    }
    if (ps.failed) {
        mbn_jsonv_free(out);
        return MBN_EFAIL;
    }
    return MBN_OK;
}

void mbn_jsonv_free(MbnJsonv *v) {
    if (!v) return;
    for (int k = 0; k < v->count; k++) {
        mbn_jsonv_free(&v->items[k]);
        if (v->keys) free(v->keys[k]);
    }
    free(v->items);
    free(v->keys);
    free(v->key_lens);
    free(v->str);
    memset(v, 0, sizeof *v);
}

const MbnJsonv *mbn_jsonv_get(const MbnJsonv *v, const char *key) {
    if (!v || v->type != MBN_JSONV_OBJECT) return NULL;
    size_t n = strlen(key);
    for (int k = 0; k < v->count; k++)
        if (v->key_lens[k] == n && memcmp(v->keys[k], key, n) == 0) return &v->items[k];
    return NULL;
}
