#include "io/formats/safetensors.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/error.h"
#include "io/formats/atomic_file.h"
#include "io/util/file_read.h"

/* Offsets and dimensions are exact 64-bit integers (doubles lose integers above 2^53). */
_Static_assert(sizeof(json_int_t) == 8, "jansson must be built with 64-bit integers");
/* Root object -> tensor entry -> shape/data_offsets array -> number: deeper is not safetensors. */
#define MAX_HEADER_DEPTH 4

/* The whole file is read at once; a weights file larger than this is not a MobileNet. */
#define MAX_FILE_BYTES ((uint64_t)16 << 30)
/* Dimensions beyond this are nonsense for any model and keep products far from overflow. */
#define MAX_DIM ((int64_t)1 << 40)

typedef enum { DT_F32, DT_F16, DT_BF16, DT_F64, DT_I64 } Dtype;

static const struct {
    const char *name;
    Dtype dt;
    int size;
} dtypes[] = {{"F32", DT_F32, 4},
              {"F16", DT_F16, 2},
              {"BF16", DT_BF16, 2},
              {"F64", DT_F64, 8},
              {"I64", DT_I64, 8}};

typedef struct {
    const char *name; /* points into the parsed JSON (jansson keys) */
    Dtype dt;
    int elem;
    int ndim;
    int64_t shape[MBN_TENSOR_MAX_DIMS];
    uint64_t begin, end;
} Entry;

static uint64_t le64(const unsigned char *p) {
    uint64_t v = 0;
    for (int k = 7; k >= 0; k--)
        v = (v << 8) | p[k];
    return v;
}

static uint32_t le32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

float mbn_bf16_to_float(uint16_t b) {
    uint32_t bits = (uint32_t)b << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static int entry_cmp(const void *a, const void *b) {
    const Entry *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return 0;
}

/* Fills e from one header member, validating types, rank, dims and the byte range size. */
static int parse_entry(const char *label, const char *name, const json_t *v, Entry *e) {
    if (!json_is_object(v))
        return mbn_fail(MBN_EFAIL, "%s: tensor %s: header entry is not an object", label, name);
    const json_t *dt = json_object_get(v, "dtype"), *sh = json_object_get(v, "shape"),
                 *off = json_object_get(v, "data_offsets");
    if (!dt || !sh || !off || json_object_size(v) != 3)
        return mbn_fail(MBN_EFAIL,
                        "%s: tensor %s: header entry needs exactly dtype, shape, data_offsets",
                        label, name);
    if (!json_is_string(dt))
        return mbn_fail(MBN_EFAIL, "%s: tensor %s: dtype is not a string", label, name);
    int found = -1;
    for (int k = 0; k < (int)(sizeof dtypes / sizeof dtypes[0]); k++)
        if (strcmp(json_string_value(dt), dtypes[k].name) == 0) found = k;
    if (found < 0)
        return mbn_fail(MBN_EFAIL, "%s: tensor %s: unsupported dtype %.16s", label, name,
                        json_string_value(dt));
    e->dt = dtypes[found].dt;
    e->elem = dtypes[found].size;
    if (!json_is_array(sh))
        return mbn_fail(MBN_EFAIL, "%s: tensor %s: shape is not an array", label, name);
    if (json_array_size(sh) > MBN_TENSOR_MAX_DIMS)
        return mbn_fail(MBN_EFAIL, "%s: tensor %s: rank %zu is more than %d", label, name,
                        json_array_size(sh), MBN_TENSOR_MAX_DIMS);
    e->ndim = (int)json_array_size(sh);
    uint64_t numel = 1;
    for (int d = 0; d < e->ndim; d++) {
        const json_t *x = json_array_get(sh, (size_t)d);
        json_int_t i = json_is_integer(x) ? json_integer_value(x) : -1;
        if (i < 0 || i > MAX_DIM)
            return mbn_fail(MBN_EFAIL, "%s: tensor %s: bad shape dimension %d", label, name, d);
        e->shape[d] = (int64_t)i;
        /* numel <= 2^40 before multiplying by <= 2^40 would overflow; check first. */
        if (i && numel > MAX_DIM / (uint64_t)i)
            return mbn_fail(MBN_EFAIL, "%s: tensor %s: shape too large", label, name);
        numel *= (uint64_t)i;
    }
    if (!json_is_array(off) || json_array_size(off) != 2)
        return mbn_fail(MBN_EFAIL, "%s: tensor %s: data_offsets is not [begin, end]", label, name);
    json_int_t bounds[2];
    for (int k = 0; k < 2; k++) {
        const json_t *x = json_array_get(off, (size_t)k);
        bounds[k] = json_is_integer(x) ? json_integer_value(x) : -1;
        if (bounds[k] < 0)
            return mbn_fail(MBN_EFAIL, "%s: tensor %s: bad data_offsets", label, name);
    }
    e->begin = (uint64_t)bounds[0];
    e->end = (uint64_t)bounds[1];
    if (e->end < e->begin)
        return mbn_fail(MBN_EFAIL, "%s: tensor %s: data_offsets end before begin", label, name);
    if (e->end - e->begin != numel * (uint64_t)e->elem)
        return mbn_fail(MBN_EFAIL,
                        "%s: tensor %s: shape needs %llu bytes but data_offsets span %llu", label,
                        name, (unsigned long long)(numel * (uint64_t)e->elem),
                        (unsigned long long)(e->end - e->begin));
    e->name = name;
    return MBN_OK;
}

static void convert(const Entry *e, const unsigned char *src, float *dst, int64_t n) {
    for (int64_t k = 0; k < n; k++) {
        const unsigned char *p = src + k * e->elem;
        switch (e->dt) {
        case DT_F32: {
            uint32_t bits = le32(p);
            memcpy(&dst[k], &bits, 4);
            break;
        }
        case DT_F16:
            dst[k] = mbn_half_to_float((uint16_t)(p[0] | p[1] << 8));
            break;
        case DT_BF16:
            dst[k] = mbn_bf16_to_float((uint16_t)(p[0] | p[1] << 8));
            break;
        case DT_F64: {
            uint64_t bits = le64(p);
            double d;
            memcpy(&d, &bits, 8);
            dst[k] = (float)d;
            break;
        }
        case DT_I64:
            break;
        }
    }
}

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int validate_metadata(const char *label, const json_t *v) {
    if (!json_is_object(v)) return mbn_fail(MBN_EFAIL, "%s: __metadata__ is not an object", label);
    const char *key;
    const json_t *value;
    json_object_foreach((json_t *)v, key, value) if (!json_is_string(value)) return mbn_fail(
        MBN_EFAIL, "%s: __metadata__ values must be strings", label);
    return MBN_OK;
}

/* Checks every entry, then the byte ranges as the reference implementation does: sorted by
 * offset they must tile the data section exactly (no gaps, no overlap, nothing left over). */
static int collect(const char *label, const json_t *root, uint64_t data_len, Entry **out,
                   int *n_out) {
    size_t members = json_object_size(root);
    Entry *es = calloc(members ? members : 1, sizeof *es);
    if (!es) return mbn_fail(MBN_EFAIL, "%s: out of host memory", label);
    int n = 0;
    const char *name;
    const json_t *value;
    json_object_foreach((json_t *)root, name, value) {
        if (strcmp(name, "__metadata__") == 0) {
            if (validate_metadata(label, value)) goto fail;
            continue;
        }
        /* jansson refuses \u0000 in strings and keys (no JSON_ALLOW_NUL): strlen is the length. */
        size_t len = strlen(name);
        if (len == 0) {
            mbn_fail(MBN_EFAIL, "%s: empty or NUL in a tensor name", label);
            goto fail;
        }
        if (len >= MBN_TENSOR_NAME_MAX) {
            mbn_fail(MBN_EFAIL, "%s: tensor name longer than %d bytes: %.40s...", label,
                     MBN_TENSOR_NAME_MAX - 1, name);
            goto fail;
        }
        if (parse_entry(label, name, value, &es[n])) goto fail;
        n++;
    }
    qsort(es, (size_t)n, sizeof *es, entry_cmp);
    uint64_t pos = 0;
    for (int k = 0; k < n; k++) {
        if (es[k].begin != pos) {
            mbn_fail(MBN_EFAIL, "%s: tensor %s: data_offsets [%llu, %llu] %s", label, es[k].name,
                     (unsigned long long)es[k].begin, (unsigned long long)es[k].end,
                     es[k].begin < pos ? "overlap another tensor" : "leave a gap");
            goto fail;
        }
        if (es[k].end > data_len) {
            mbn_fail(MBN_EFAIL,
                     "%s: tensor %s: data_offsets end %llu is past the data (%llu bytes)", label,
                     es[k].name, (unsigned long long)es[k].end, (unsigned long long)data_len);
            goto fail;
        }
        pos = es[k].end;
    }
    if (pos != data_len) {
        mbn_fail(MBN_EFAIL, "%s: %llu bytes of data after the last tensor (truncated header?)",
                 label, (unsigned long long)(data_len - pos));
        goto fail;
    }
    *out = es;
    *n_out = n;
    return MBN_OK;
fail:
    free(es);
    return MBN_EFAIL;
}

static int copy_metadata(const char *label, const json_t *root, MbnStMetadata *meta) {
    json_t *m = json_object_get(root, "__metadata__");
    if (!m || !json_object_size(m)) return MBN_OK;
    meta->items = calloc(json_object_size(m), sizeof *meta->items);
    if (!meta->items) return mbn_fail(MBN_EFAIL, "%s: out of host memory", label);
    const char *key;
    json_t *value;
    json_object_foreach(m, key, value) { /* values were checked to be strings, without NUL */
        MbnStMetaItem *it = &meta->items[meta->count];
        it->key = strdup(key);
        it->value = strdup(json_string_value(value));
        meta->count++;
        if (!it->key || !it->value) return mbn_fail(MBN_EFAIL, "%s: out of host memory", label);
    }
    return MBN_OK;
}

/* Nesting depth of a JSON value (a scalar is 1). */
static int depth(const json_t *v) {
    int deepest = 0;
    if (json_is_object(v)) {
        const char *key;
        const json_t *x;
        json_object_foreach((json_t *)v, key, x) {
            int d = depth(x);
            if (d > deepest) deepest = d;
        }
    } else if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) {
            int d = depth(json_array_get(v, i));
            if (d > deepest) deepest = d;
        }
    }
    return deepest + 1;
}

/* jansson's error as one line in mbn's words ("JSON: <what> at byte N"). */
static int json_failure(const char *label, const json_error_t *err) {
    const char *what = err->text;
    switch (json_error_code(err)) {
    case json_error_duplicate_key:
        what = "duplicate key";
        break;
    case json_error_invalid_utf8:
        what = "invalid UTF-8";
        break;
    case json_error_null_character:
    case json_error_null_byte_in_key:
        what = "NUL character (\\u0000) in a string";
        break;
    case json_error_numeric_overflow:
        what = "number too large for a 64-bit integer";
        break;
    case json_error_out_of_memory:
        what = "out of host memory";
        break;
    default:
        break;
    }
    return mbn_fail(MBN_EFAIL, "%s: bad safetensors header: JSON: %s at byte %d", label, what,
                    err->position);
}

void mbn_st_metadata_free(MbnStMetadata *meta) {
    if (!meta) return;
    for (int k = 0; k < meta->count; k++) {
        free(meta->items[k].key);
        free(meta->items[k].value);
    }
    free(meta->items);
    memset(meta, 0, sizeof *meta);
}

const char *mbn_st_metadata_get(const MbnStMetadata *meta, const char *key) {
    for (int k = 0; meta && k < meta->count; k++)
        if (strcmp(meta->items[k].key, key) == 0) return meta->items[k].value;
    return NULL;
}

int mbn_safetensors_parse(const unsigned char *buf, size_t len, const char *label,
                          MbnTensorSet *out) {
    return mbn_safetensors_parse_ex(buf, len, label, out, NULL);
}

int mbn_safetensors_parse_ex(const unsigned char *buf, size_t len, const char *label,
                             MbnTensorSet *out, MbnStMetadata *meta) {
    memset(out, 0, sizeof *out);
    if (meta) memset(meta, 0, sizeof *meta);
    if (len < 8) return mbn_fail(MBN_EFAIL, "%s: too short for a safetensors file", label);
    uint64_t hlen = le64(buf);
    if (hlen > MBN_SAFETENSORS_MAX_HEADER)
        return mbn_fail(MBN_EFAIL, "%s: safetensors header length %llu is over the %u limit", label,
                        (unsigned long long)hlen, MBN_SAFETENSORS_MAX_HEADER);
    if (hlen > len - 8)
        return mbn_fail(MBN_EFAIL,
                        "%s: safetensors header length %llu is past the end of the file "
                        "(%zu bytes; truncated?)",
                        label, (unsigned long long)hlen, len);
    const char *hdr = (const char *)buf + 8;
    if (hlen < 2 || hdr[0] != '{')
        return mbn_fail(MBN_EFAIL, "%s: safetensors header does not start with '{'", label);
    /* The header is parsed within its length (not NUL-terminated: data follows), strictly:
     * duplicate keys refused, nothing but whitespace after the object, valid UTF-8, no \u0000.
     * Its size is capped above, which bounds the memory the tree takes. */
    json_error_t err;
    json_t *root = json_loadb(hdr, (size_t)hlen, JSON_REJECT_DUPLICATES, &err);
    if (!root) return json_failure(label, &err);
    if (!json_is_object(root)) {
        json_decref(root);
        return mbn_fail(MBN_EFAIL, "%s: safetensors header is not a JSON object", label);
    }
    if (depth(root) > MAX_HEADER_DEPTH) {
        json_decref(root);
        return mbn_fail(MBN_EFAIL, "%s: bad safetensors header: JSON nesting too deep (over %d)",
                        label, MAX_HEADER_DEPTH);
    }
    const unsigned char *data = buf + 8 + hlen;
    uint64_t data_len = len - 8 - hlen;
    Entry *es = NULL;
    int n = 0;
    if (collect(label, root, data_len, &es, &n)) {
        json_decref(root);
        return MBN_EFAIL;
    }
    int rc = MBN_OK;
    for (int k = 0; k < n && rc == MBN_OK; k++) {
        const Entry *e = &es[k];
        if (e->dt == DT_I64) {
            if (ends_with(e->name, "num_batches_tracked")) continue;
            rc = mbn_fail(MBN_EFAIL, "%s: tensor %s: dtype I64 is not a float tensor", label,
                          e->name);
            break;
        }
        MbnHostTensor *t = mbn_tensors_add(out, e->name, e->ndim, e->shape, NULL);
        if (!t) {
            rc = mbn_fail_context(MBN_EFAIL, "%s", label);
            break;
        }
        convert(e, data + e->begin, t->data, mbn_tensor_numel(t));
    }
    if (rc == MBN_OK && meta) rc = copy_metadata(label, root, meta);
    free(es);
    json_decref(root);
    if (rc) {
        mbn_tensors_free(out);
        mbn_st_metadata_free(meta);
    }
    return rc;
}

int mbn_safetensors_read(const char *path, MbnTensorSet *out) {
    return mbn_safetensors_read_ex(path, out, NULL);
}

int mbn_safetensors_read_ex(const char *path, MbnTensorSet *out, MbnStMetadata *meta) {
    memset(out, 0, sizeof *out);
    if (meta) memset(meta, 0, sizeof *meta);
    unsigned char *buf;
    size_t len;
    MBN_TRY(mbn_read_file(path, MAX_FILE_BYTES, &buf, &len));
    int rc = mbn_safetensors_parse_ex(buf, len, path, out, meta);
    free(buf);
    return rc;
}

/* ---- writing ---- */

typedef struct {
    char *p;
    size_t len, cap;
    bool oom;
} Str;

static void put(Str *s, const char *text, size_t n) {
    if (s->oom) return;
    if (s->len + n + 1 > s->cap) {
        size_t nc = s->cap ? s->cap : 1024;
        while (nc < s->len + n + 1)
            nc *= 2;
        char *p = realloc(s->p, nc);
        if (!p) {
            s->oom = true;
            return;
        }
        s->p = p;
        s->cap = nc;
    }
    memcpy(s->p + s->len, text, n);
    s->len += n;
    s->p[s->len] = 0;
}

static void puts_(Str *s, const char *text) {
    put(s, text, strlen(text));
}

static void put_json_string(Str *s, const char *v) {
    puts_(s, "\"");
    for (const unsigned char *c = (const unsigned char *)v; *c; c++) {
        char esc[8];
        if (*c == '"' || *c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*c;
            put(s, esc, 2);
        } else if (*c < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", *c);
            puts_(s, esc);
        } else {
            put(s, (const char *)c, 1);
        }
    }
    puts_(s, "\"");
}

static int name_cmp(const void *a, const void *b) {
    const MbnHostTensor *const *x = a, *const *y = b;
    return strcmp((*x)->name, (*y)->name);
}

int mbn_safetensors_write(const char *path, const MbnTensorSet *set, const char *const *metadata) {
    /* Sorted by name like the Python library (all F32, so its alignment-first order reduces to
     * names); the data follows in the same order. */
    const MbnHostTensor **order = malloc((set->count ? (size_t)set->count : 1) * sizeof *order);
    if (!order) return mbn_fail(MBN_EFAIL, "%s: out of host memory", path);
    for (int k = 0; k < set->count; k++)
        order[k] = &set->items[k];
    qsort(order, (size_t)set->count, sizeof *order, name_cmp);
    for (int k = 1; k < set->count; k++)
        if (strcmp(order[k - 1]->name, order[k]->name) == 0) {
            mbn_fail(MBN_EFAIL, "%s: duplicate tensor name %s", path, order[k]->name);
            free(order);
            return MBN_EFAIL;
        }
    Str h = {0};
    char num[64];
    puts_(&h, "{");
    bool first = true;
    if (metadata && metadata[0]) {
        puts_(&h, "\"__metadata__\":{");
        for (int k = 0; metadata[k] && metadata[k + 1]; k += 2) {
            if (k) puts_(&h, ",");
            put_json_string(&h, metadata[k]);
            puts_(&h, ":");
            put_json_string(&h, metadata[k + 1]);
        }
        puts_(&h, "}");
        first = false;
    }
    uint64_t offset = 0;
    for (int k = 0; k < set->count; k++) {
        const MbnHostTensor *t = order[k];
        if (!first) puts_(&h, ",");
        first = false;
        put_json_string(&h, t->name);
        puts_(&h, ":{\"dtype\":\"F32\",\"shape\":[");
        for (int d = 0; d < t->ndim; d++) {
            snprintf(num, sizeof num, "%s%lld", d ? "," : "", (long long)t->shape[d]);
            puts_(&h, num);
        }
        uint64_t bytes = (uint64_t)mbn_tensor_numel(t) * 4;
        snprintf(num, sizeof num, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)offset,
                 (unsigned long long)(offset + bytes));
        puts_(&h, num);
        offset += bytes;
    }
    puts_(&h, "}");
    /* Pad with spaces so the data starts 8-byte aligned, as the reference writer does. */
    while ((h.len + 8) % 8)
        puts_(&h, " ");
    if (h.oom) {
        free(h.p);
        free(order);
        return mbn_fail(MBN_EFAIL, "%s: out of host memory", path);
    }
    unsigned char len8[8];
    for (int k = 0; k < 8; k++)
        len8[k] = (unsigned char)((uint64_t)h.len >> (8 * k));
    MbnAtomicFile af;
    int rc = mbn_atomic_open(&af, path);
    if (rc == MBN_OK) rc = mbn_atomic_write(&af, len8, 8);
    if (rc == MBN_OK) rc = mbn_atomic_write(&af, h.p, h.len);
    unsigned char chunk[4096];
    for (int k = 0; k < set->count && rc == MBN_OK; k++) {
        const MbnHostTensor *t = order[k];
        int64_t n = mbn_tensor_numel(t);
        for (int64_t i = 0; i < n && rc == MBN_OK;) {
            size_t m = 0;
            for (; i < n && m + 4 <= sizeof chunk; i++, m += 4) {
                uint32_t bits;
                memcpy(&bits, &t->data[i], 4);
                for (int b = 0; b < 4; b++)
                    chunk[m + b] = (unsigned char)(bits >> (8 * b));
            }
            rc = mbn_atomic_write(&af, chunk, m);
        }
    }
    if (rc == MBN_OK)
        rc = mbn_atomic_commit(&af);
    else
        mbn_atomic_abort(&af);
    free(h.p);
    free(order);
    return rc;
}
