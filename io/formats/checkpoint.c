/* Checkpoint file format (docs/CHECKPOINT_FORMAT.md): a 40-byte header with its own CRC, a zlib
 * stream holding the payload (config, tensors, meta), and a CRC32 trailer over everything
 * before it. Loading checks the header, the sizes, the whole-file CRC, then inflates exactly the
 * announced size (zlib verifies its adler32) and parses the payload with bounds checks, into a
 * scratch checkpoint that is handed over only when everything succeeded. */
#include "io/formats/checkpoint.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "base/error.h"
#include "io/formats/atomic_file.h"
#include "io/util/file_read.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "checkpoint tensor data is copied as little-endian float32"
#endif

_Static_assert(MBN_CKPT_ZLIB_STRATEGY == Z_HUFFMAN_ONLY, "checkpoint.h documents Huffman-only");
_Static_assert(MBN_CKPT_MAX_PAYLOAD < UINT_MAX, "payload sizes must fit zlib's uInt");

static const unsigned char magic[8] = {'M', 'B', 'N', 'C', 'K', 'P', 'T', 0};
enum { HEADER = 40, TRAILER = 4, META_KEY_MAX = 64 };
enum { DTYPE_F32_PLANES = 0 }; /* float32, stored as 4 byte planes */
/* Deflate cannot expand data by more than ~1032:1; a larger claimed ratio is a forged size. */
#define MAX_RATIO 1100

/* ---- meta ---- */

static MbnMeta *meta_slot(MbnCheckpoint *ck, const char *key) {
    if (!key[0] || strlen(key) >= META_KEY_MAX) {
        mbn_fail(MBN_EFAIL, "checkpoint meta key \"%.80s\": empty or longer than %d bytes", key,
                 META_KEY_MAX - 1);
        return NULL;
    }
    for (int k = 0; k < ck->n_meta; k++)
        if (strcmp(ck->meta[k].key, key) == 0) {
            free(ck->meta[k].s);
            ck->meta[k].s = NULL;
            return &ck->meta[k];
        }
    if (ck->n_meta == ck->cap_meta) {
        int cap = ck->cap_meta ? ck->cap_meta * 2 : 16;
        MbnMeta *m = realloc(ck->meta, (size_t)cap * sizeof *m);
        if (!m) {
            mbn_fail(MBN_EFAIL, "out of host memory for checkpoint meta %s", key);
            return NULL;
        }
        ck->meta = m;
        ck->cap_meta = cap;
    }
    MbnMeta *m = &ck->meta[ck->n_meta++];
    memset(m, 0, sizeof *m);
    snprintf(m->key, sizeof m->key, "%s", key);
    return m;
}

int mbn_ckpt_set_int(MbnCheckpoint *ck, const char *key, int64_t v) {
    MbnMeta *m = meta_slot(ck, key);
    if (!m) return MBN_EFAIL;
    m->type = MBN_META_INT;
    m->i = v;
    return MBN_OK;
}

int mbn_ckpt_set_float(MbnCheckpoint *ck, const char *key, double v) {
    MbnMeta *m = meta_slot(ck, key);
    if (!m) return MBN_EFAIL;
    m->type = MBN_META_FLOAT;
    m->f = v;
    return MBN_OK;
}

int mbn_ckpt_set_string(MbnCheckpoint *ck, const char *key, const char *v) {
    char *copy = strdup(v ? v : "");
    if (!copy) return mbn_fail(MBN_EFAIL, "out of host memory for checkpoint meta %s", key);
    MbnMeta *m = meta_slot(ck, key);
    if (!m) {
        free(copy);
        return MBN_EFAIL;
    }
    m->type = MBN_META_STRING;
    m->s = copy;
    return MBN_OK;
}

static const MbnMeta *meta_find(const MbnCheckpoint *ck, const char *key, MbnMetaType type) {
    for (int k = 0; k < ck->n_meta; k++)
        if (strcmp(ck->meta[k].key, key) == 0)
            return ck->meta[k].type == type ? &ck->meta[k] : NULL;
    return NULL;
}

bool mbn_ckpt_get_int(const MbnCheckpoint *ck, const char *key, int64_t *v) {
    const MbnMeta *m = meta_find(ck, key, MBN_META_INT);
    if (m) *v = m->i;
    return m != NULL;
}

bool mbn_ckpt_get_float(const MbnCheckpoint *ck, const char *key, double *v) {
    const MbnMeta *m = meta_find(ck, key, MBN_META_FLOAT);
    if (m) *v = m->f;
    return m != NULL;
}

const char *mbn_ckpt_get_string(const MbnCheckpoint *ck, const char *key) {
    const MbnMeta *m = meta_find(ck, key, MBN_META_STRING);
    return m ? m->s : NULL;
}

void mbn_ckpt_free(MbnCheckpoint *ck) {
    mbn_tensors_free(&ck->tensors);
    for (int k = 0; k < ck->n_meta; k++)
        free(ck->meta[k].s);
    free(ck->meta);
    memset(ck, 0, sizeof *ck);
}

/* ---- little-endian encoding ---- */

static void put_u16(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}
static void put_u32(unsigned char *p, uint32_t v) {
    for (int k = 0; k < 4; k++)
        p[k] = (unsigned char)(v >> (8 * k));
}
static void put_u64(unsigned char *p, uint64_t v) {
    for (int k = 0; k < 8; k++)
        p[k] = (unsigned char)(v >> (8 * k));
}
static uint32_t get_u16(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}
static uint32_t get_u32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get_u64(const unsigned char *p) {
    uint64_t v = 0;
    for (int k = 7; k >= 0; k--)
        v = (v << 8) | p[k];
    return v;
}
static uint32_t f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}
static float bits_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* zlib's crc32 takes uInt lengths; feed large buffers in pieces. */
static uint32_t crc_of(const unsigned char *p, uint64_t n) {
    uLong c = crc32(0L, Z_NULL, 0);
    while (n) {
        uInt m = n > (1u << 30) ? (1u << 30) : (uInt)n;
        c = crc32(c, p, m);
        p += m;
        n -= m;
    }
    return (uint32_t)c;
}

/* Float data is stored as 4 byte planes (all lowest bytes, then the next, ...): the planes with
 * sign and exponent are highly redundant and compress well once they are contiguous, while the
 * mantissa planes are noise. With Huffman-only coding this beats plain deflate on size and speed
 * (docs/CHECKPOINT_FORMAT.md has the measurements). */
static void shuffle_planes(const float *src, size_t n, unsigned char *dst) {
    for (size_t i = 0; i < n; i++) {
        uint32_t u = f32_bits(src[i]);
        dst[i] = (unsigned char)u;
        dst[n + i] = (unsigned char)(u >> 8);
        dst[2 * n + i] = (unsigned char)(u >> 16);
        dst[3 * n + i] = (unsigned char)(u >> 24);
    }
}

static void unshuffle_planes(const unsigned char *src, size_t n, float *dst) {
    for (size_t i = 0; i < n; i++)
        dst[i] = bits_f32((uint32_t)src[i] | (uint32_t)src[n + i] << 8 |
                          (uint32_t)src[2 * n + i] << 16 | (uint32_t)src[3 * n + i] << 24);
}

static const char *first_duplicate(const MbnCheckpoint *ck);

/* ---- saving ---- */

static uint64_t payload_size(const MbnCheckpoint *ck) {
    uint64_t n = 16 + 4 + 4;
    for (int k = 0; k < ck->tensors.count; k++) {
        const MbnHostTensor *t = &ck->tensors.items[k];
        n += 2 + strlen(t->name) + 2 + 8 * (uint64_t)t->ndim + 4 * (uint64_t)mbn_tensor_numel(t);
    }
    for (int k = 0; k < ck->n_meta; k++) {
        const MbnMeta *m = &ck->meta[k];
        n += 1 + strlen(m->key) + 1 + (m->type == MBN_META_STRING ? 4 + strlen(m->s) : 8);
    }
    return n;
}

/* Refuses what the loader would refuse, so a saved file always loads. */
static bool config_plausible(const MbnModelConfig *c) {
    return c->alpha > 0 && c->alpha <= MBN_ALPHA_MAX && c->resolution >= MBN_RESOLUTION_MIN &&
           c->resolution <= MBN_RESOLUTION_MAX && c->num_classes >= MBN_CLASSES_MIN &&
           c->num_classes <= MBN_CLASSES_MAX && c->bn_eps > 0 && c->bn_eps < 1;
}

static int check_saveable(const char *path, const MbnCheckpoint *ck) {
    if (!config_plausible(&ck->config))
        return mbn_fail(MBN_EFAIL,
                        "%s: refusing to save an unset or implausible model config (alpha %g, "
                        "resolution %d, classes %d, eps %g)",
                        path, (double)ck->config.alpha, ck->config.resolution,
                        ck->config.num_classes, (double)ck->config.bn_eps);
    for (int k = 0; k < ck->tensors.count; k++) {
        const MbnHostTensor *t = &ck->tensors.items[k];
        if (!t->name[0] || t->ndim < 0 || t->ndim > MBN_TENSOR_MAX_DIMS)
            return mbn_fail(MBN_EFAIL, "%s: tensor %d has no name or a bad rank", path, k);
    }
    if (ck->tensors.count > MBN_CKPT_MAX_TENSORS || ck->n_meta > MBN_CKPT_MAX_META)
        return mbn_fail(MBN_EFAIL, "%s: more than %d tensors or %d meta entries", path,
                        MBN_CKPT_MAX_TENSORS, MBN_CKPT_MAX_META);
    const char *dup = first_duplicate(ck);
    if (dup) return mbn_fail(MBN_EFAIL, "%s: duplicate tensor name or meta key %s", path, dup);
    for (int k = 0; k < ck->n_meta; k++)
        if (ck->meta[k].type == MBN_META_STRING &&
            (!ck->meta[k].s || strlen(ck->meta[k].s) > UINT32_MAX))
            return mbn_fail(MBN_EFAIL, "%s: meta %s too long", path, ck->meta[k].key);
    if (ck->tensors.count < 0 || ck->n_meta < 0)
        return mbn_fail(MBN_EFAIL, "%s: bad checkpoint counts", path);
    return MBN_OK;
}

static void serialize(const MbnCheckpoint *ck, unsigned char *p) {
    put_u32(p, f32_bits(ck->config.alpha));
    put_u32(p + 4, (uint32_t)ck->config.resolution);
    put_u32(p + 8, (uint32_t)ck->config.num_classes);
    put_u32(p + 12, f32_bits(ck->config.bn_eps));
    p += 16;
    put_u32(p, (uint32_t)ck->tensors.count);
    p += 4;
    for (int k = 0; k < ck->tensors.count; k++) {
        const MbnHostTensor *t = &ck->tensors.items[k];
        size_t n = strlen(t->name);
        put_u16(p, (uint32_t)n);
        memcpy(p + 2, t->name, n);
        p += 2 + n;
        p[0] = (unsigned char)t->ndim;
        p[1] = DTYPE_F32_PLANES;
        p += 2;
        for (int d = 0; d < t->ndim; d++, p += 8)
            put_u64(p, (uint64_t)t->shape[d]);
        size_t n_el = (size_t)mbn_tensor_numel(t);
        shuffle_planes(t->data, n_el, p);
        p += 4 * n_el;
    }
    put_u32(p, (uint32_t)ck->n_meta);
    p += 4;
    for (int k = 0; k < ck->n_meta; k++) {
        const MbnMeta *m = &ck->meta[k];
        size_t n = strlen(m->key);
        p[0] = (unsigned char)n;
        memcpy(p + 1, m->key, n);
        p += 1 + n;
        *p++ = (unsigned char)m->type;
        if (m->type == MBN_META_INT) {
            put_u64(p, (uint64_t)m->i);
            p += 8;
        } else if (m->type == MBN_META_FLOAT) {
            uint64_t u;
            memcpy(&u, &m->f, 8);
            put_u64(p, u);
            p += 8;
        } else {
            size_t sl = strlen(m->s);
            put_u32(p, (uint32_t)sl);
            memcpy(p + 4, m->s, sl);
            p += 4 + sl;
        }
    }
}

int mbn_ckpt_save_ex(const char *path, const MbnCheckpoint *ck, int level, int strategy) {
    MBN_TRY(check_saveable(path, ck));
    uint64_t raw_n = payload_size(ck);
    if (raw_n > MBN_CKPT_MAX_PAYLOAD)
        return mbn_fail(MBN_EFAIL, "%s: checkpoint payload of %llu bytes is over the limit", path,
                        (unsigned long long)raw_n);
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    int zrc = deflateInit2(&zs, level, Z_DEFLATED, 15, 8, strategy);
    if (zrc != Z_OK)
        return mbn_fail(MBN_EFAIL, "%s: zlib level %d / strategy %d refused (%s)", path, level,
                        strategy, zError(zrc));
    unsigned char *raw = malloc((size_t)raw_n);
    uLong bound = deflateBound(&zs, (uLong)raw_n);
    unsigned char *file = malloc(HEADER + (size_t)bound + TRAILER);
    if (!raw || !file) {
        deflateEnd(&zs);
        free(raw);
        free(file);
        return mbn_fail(MBN_EFAIL, "%s: out of host memory (%llu bytes)", path,
                        (unsigned long long)raw_n);
    }
    serialize(ck, raw);
    /* raw_n <= MBN_CKPT_MAX_PAYLOAD (2 GiB) and the bound fit zlib's uInt in one call. */
    zs.next_in = raw;
    zs.avail_in = (uInt)raw_n;
    zs.next_out = file + HEADER;
    zs.avail_out = (uInt)bound;
    zrc = deflate(&zs, Z_FINISH);
    uint64_t comp_n = zs.total_out;
    deflateEnd(&zs);
    free(raw);
    if (zrc != Z_STREAM_END) {
        free(file);
        return mbn_fail(MBN_EFAIL, "%s: zlib compression failed (%s)", path, zError(zrc));
    }
    memcpy(file, magic, 8);
    put_u32(file + 8, MBN_CKPT_VERSION);
    put_u32(file + 12, 0);
    put_u64(file + 16, raw_n);
    put_u64(file + 24, (uint64_t)comp_n);
    put_u32(file + 32, 0);
    put_u32(file + 36, crc_of(file, 36));
    size_t total = HEADER + (size_t)comp_n;
    put_u32(file + total, crc_of(file, total));
    total += TRAILER;
    MbnAtomicFile af;
    int rc = mbn_atomic_open(&af, path);
    if (rc == MBN_OK) {
        rc = mbn_atomic_write(&af, file, total);
        if (rc == MBN_OK)
            rc = mbn_atomic_commit(&af);
        else
            mbn_atomic_abort(&af);
    }
    free(file);
    return rc;
}

int mbn_ckpt_save(const char *path, const MbnCheckpoint *ck) {
    return mbn_ckpt_save_ex(path, ck, MBN_CKPT_ZLIB_LEVEL, MBN_CKPT_ZLIB_STRATEGY);
}

/* ---- loading ---- */

/* Appends without the lookup mbn_ckpt_set_* does (which would make loading quadratic);
 * duplicates are found afterwards by first_duplicate. */
static MbnMeta *meta_append(MbnCheckpoint *ck, const char *key, MbnMetaType type) {
    if (ck->n_meta == ck->cap_meta) {
        int cap = ck->cap_meta ? ck->cap_meta * 2 : 16;
        MbnMeta *m = realloc(ck->meta, (size_t)cap * sizeof *m);
        if (!m) {
            mbn_fail(MBN_EFAIL, "out of host memory for checkpoint meta");
            return NULL;
        }
        ck->meta = m;
        ck->cap_meta = cap;
    }
    MbnMeta *m = &ck->meta[ck->n_meta++];
    memset(m, 0, sizeof *m);
    snprintf(m->key, sizeof m->key, "%s", key);
    m->type = type;
    return m;
}

static int str_ptr_cmp(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A tensor name or meta key that occurs twice, or NULL; sorted, so O(n log n). Tensors and meta
 * are separate namespaces. */
static const char *first_duplicate(const MbnCheckpoint *ck) {
    int n = ck->tensors.count > ck->n_meta ? ck->tensors.count : ck->n_meta;
    if (n < 2) return NULL;
    const char **names = malloc((size_t)n * sizeof *names);
    if (!names) return "(out of memory while checking names)";
    const char *dup = NULL;
    for (int pass = 0; pass < 2 && !dup; pass++) {
        int m = pass ? ck->n_meta : ck->tensors.count;
        for (int k = 0; k < m; k++)
            names[k] = pass ? ck->meta[k].key : ck->tensors.items[k].name;
        qsort(names, (size_t)m, sizeof *names, str_ptr_cmp);
        for (int k = 1; k < m && !dup; k++)
            if (strcmp(names[k - 1], names[k]) == 0) dup = names[k];
    }
    free(names);
    return dup;
}

typedef struct {
    const unsigned char *p, *end;
    const char *label;
} Reader;

static bool need(Reader *r, uint64_t n) {
    return (uint64_t)(r->end - r->p) >= n;
}

static int damaged(const Reader *r, const char *what) {
    return mbn_fail(MBN_EFAIL, "%s: %s (file damaged)", r->label, what);
}

static int parse_tensors(Reader *r, MbnCheckpoint *ck) {
    if (!need(r, 4)) return damaged(r, "payload ends inside the tensor count");
    uint32_t n = get_u32(r->p);
    r->p += 4;
    if (n > MBN_CKPT_MAX_TENSORS) return damaged(r, "implausible tensor count");
    for (uint32_t k = 0; k < n; k++) {
        if (!need(r, 2)) return damaged(r, "payload ends inside a tensor entry");
        uint32_t nl = get_u16(r->p);
        r->p += 2;
        if (nl == 0 || nl >= MBN_TENSOR_NAME_MAX || !need(r, nl + 2))
            return damaged(r, "bad tensor name length");
        char name[MBN_TENSOR_NAME_MAX];
        memcpy(name, r->p, nl);
        name[nl] = 0;
        r->p += nl;
        if (strlen(name) != nl) return damaged(r, "NUL byte in a tensor name");
        int ndim = r->p[0], dtype = r->p[1];
        r->p += 2;
        if (ndim > MBN_TENSOR_MAX_DIMS || dtype != DTYPE_F32_PLANES)
            return mbn_fail(MBN_EFAIL, "%s: tensor %s: bad rank %d or dtype %d (file damaged)",
                            r->label, name, ndim, dtype);
        if (!need(r, 8 * (uint64_t)ndim)) return damaged(r, "payload ends inside a tensor shape");
        int64_t shape[MBN_TENSOR_MAX_DIMS];
        uint64_t numel = 1, avail = (uint64_t)(r->end - r->p);
        for (int d = 0; d < ndim; d++, r->p += 8) {
            uint64_t dim = get_u64(r->p);
            /* The data must fit in what is left, which bounds every dimension and product. */
            if (dim > avail || (dim && numel > avail / dim))
                return mbn_fail(MBN_EFAIL, "%s: tensor %s: shape larger than the file (damaged)",
                                r->label, name);
            shape[d] = (int64_t)dim;
            numel *= dim;
        }
        if (!need(r, 4 * numel))
            return mbn_fail(MBN_EFAIL, "%s: tensor %s: data runs past the payload (damaged)",
                            r->label, name);
        MbnHostTensor *t = mbn_tensors_add(&ck->tensors, name, ndim, shape, NULL);
        if (!t) return mbn_fail_context(MBN_EFAIL, "%s", r->label);
        unshuffle_planes(r->p, (size_t)numel, t->data);
        r->p += 4 * numel;
    }
    return MBN_OK;
}

static int parse_meta(Reader *r, MbnCheckpoint *ck) {
    if (!need(r, 4)) return damaged(r, "payload ends inside the meta count");
    uint32_t n = get_u32(r->p);
    r->p += 4;
    if (n > MBN_CKPT_MAX_META) return damaged(r, "implausible meta count");
    for (uint32_t k = 0; k < n; k++) {
        if (!need(r, 1)) return damaged(r, "payload ends inside a meta entry");
        uint32_t kl = r->p[0];
        r->p++;
        if (kl == 0 || kl >= META_KEY_MAX || !need(r, kl + 1)) return damaged(r, "bad meta key");
        char key[META_KEY_MAX];
        memcpy(key, r->p, kl);
        key[kl] = 0;
        r->p += kl;
        int type = *r->p++;
        if (strlen(key) != kl) return damaged(r, "NUL byte in a meta key");
        int rc;
        if (type == MBN_META_INT || type == MBN_META_FLOAT) {
            if (!need(r, 8)) return damaged(r, "payload ends inside a meta value");
            uint64_t u = get_u64(r->p);
            r->p += 8;
            double f;
            memcpy(&f, &u, 8);
            MbnMeta *m = meta_append(ck, key, (MbnMetaType)type);
            rc = m ? MBN_OK : MBN_EFAIL;
            if (m && type == MBN_META_INT) m->i = (int64_t)u;
            if (m && type == MBN_META_FLOAT) m->f = f;
        } else if (type == MBN_META_STRING) {
            if (!need(r, 4)) return damaged(r, "payload ends inside a meta value");
            uint32_t sl = get_u32(r->p);
            r->p += 4;
            if (!need(r, sl)) return damaged(r, "meta string runs past the payload");
            char *s = malloc((size_t)sl + 1);
            if (!s) return mbn_fail(MBN_EFAIL, "%s: out of host memory", r->label);
            memcpy(s, r->p, sl);
            s[sl] = 0;
            r->p += sl;
            if (strlen(s) != sl) {
                free(s);
                return damaged(r, "NUL byte in a meta string");
            }
            MbnMeta *m = meta_append(ck, key, MBN_META_STRING);
            rc = m ? MBN_OK : MBN_EFAIL;
            if (m)
                m->s = s;
            else
                free(s);
        } else {
            return damaged(r, "unknown meta type");
        }
        if (rc) return mbn_fail_context(MBN_EFAIL, "%s", r->label);
    }
    return MBN_OK;
}

static int parse_payload(const unsigned char *raw, uint64_t n, const char *label,
                         MbnCheckpoint *ck) {
    Reader r = {raw, raw + n, label};
    if (!need(&r, 16)) return damaged(&r, "payload too short for the model config");
    MbnModelConfig *c = &ck->config;
    c->alpha = bits_f32(get_u32(raw));
    c->resolution = (int32_t)get_u32(raw + 4);
    c->num_classes = (int32_t)get_u32(raw + 8);
    c->bn_eps = bits_f32(get_u32(raw + 12));
    r.p += 16;
    if (!config_plausible(c)) return damaged(&r, "implausible model config");
    MBN_TRY(parse_tensors(&r, ck));
    MBN_TRY(parse_meta(&r, ck));
    if (r.p != r.end) return damaged(&r, "extra bytes after the payload");
    const char *dup = first_duplicate(ck);
    if (dup) return mbn_fail(MBN_EFAIL, "%s: duplicate name %s (file damaged)", label, dup);
    return MBN_OK;
}

/* Inflates exactly raw_n bytes; zlib checks the stream's adler32. The stream must end exactly
 * at the end of the compressed bytes. */
static int inflate_exact(const unsigned char *comp, uint64_t comp_n, unsigned char *raw,
                         uint64_t raw_n, const char *label) {
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit(&zs) != Z_OK) return mbn_fail(MBN_EFAIL, "%s: zlib init failed", label);
    uint64_t in_left = comp_n, out_left = raw_n;
    zs.next_in = (Bytef *)(uintptr_t)comp;
    zs.next_out = raw;
    int zrc = Z_OK;
    while (zrc == Z_OK) {
        /* avail_* are uInt: refill in pieces for payloads over 4 GiB-ish. */
        if (zs.avail_in == 0 && in_left) {
            zs.avail_in = in_left > (1u << 30) ? (1u << 30) : (uInt)in_left;
            in_left -= zs.avail_in;
        }
        if (zs.avail_out == 0 && out_left) {
            zs.avail_out = out_left > (1u << 30) ? (1u << 30) : (uInt)out_left;
            out_left -= zs.avail_out;
        }
        zrc = inflate(&zs, Z_FINISH);
        if (zrc == Z_BUF_ERROR &&
            ((zs.avail_in == 0 && in_left) || (zs.avail_out == 0 && out_left)))
            zrc = Z_OK;
    }
    bool exact = zrc == Z_STREAM_END && zs.avail_in == 0 && in_left == 0 && zs.avail_out == 0 &&
                 out_left == 0;
    inflateEnd(&zs);
    if (zrc != Z_STREAM_END)
        return mbn_fail(MBN_EFAIL, "%s: compressed payload is corrupt (%s; file damaged)", label,
                        zrc == Z_DATA_ERROR ? "bad data or adler32"
                                            : (zrc == Z_BUF_ERROR ? "size mismatch" : zError(zrc)));
    if (!exact)
        return mbn_fail(MBN_EFAIL, "%s: payload size differs from the header (file damaged)",
                        label);
    return MBN_OK;
}

static int check_container(const unsigned char *buf, size_t len, const char *label, uint64_t *raw_n,
                           uint64_t *comp_n) {
    size_t m = len < 8 ? len : 8;
    if (memcmp(buf, magic, m) != 0)
        return mbn_fail(MBN_EFAIL, "%s: not an mbn checkpoint (bad magic)", label);
    if (len < HEADER + TRAILER)
        return mbn_fail(MBN_EFAIL, "%s: truncated (%zu bytes, shorter than the header)", label,
                        len);
    if (get_u32(buf + 36) != crc_of(buf, 36))
        return mbn_fail(MBN_EFAIL, "%s: header checksum mismatch (file damaged)", label);
    uint32_t version = get_u32(buf + 8);
    if (version > MBN_CKPT_VERSION)
        return mbn_fail(MBN_EFAIL,
                        "%s: checkpoint format version %u is newer than this mbn reads (%d); "
                        "use a newer mbn",
                        label, version, MBN_CKPT_VERSION);
    if (version == 0) return mbn_fail(MBN_EFAIL, "%s: bad format version 0", label);
    if (get_u32(buf + 12) != 0 || get_u32(buf + 32) != 0)
        return mbn_fail(MBN_EFAIL, "%s: unknown header flags (file damaged)", label);
    *raw_n = get_u64(buf + 16);
    *comp_n = get_u64(buf + 24);
    uint64_t want = (uint64_t)HEADER + TRAILER + *comp_n;
    if (*comp_n > (uint64_t)len || want > (uint64_t)len)
        return mbn_fail(MBN_EFAIL, "%s: truncated (%zu of %llu bytes)", label, len,
                        (unsigned long long)(*comp_n > (uint64_t)len ? *comp_n : want));
    if (want < (uint64_t)len)
        return mbn_fail(MBN_EFAIL, "%s: %llu unexpected bytes after the end (file damaged)", label,
                        (unsigned long long)((uint64_t)len - want));
    if (get_u32(buf + HEADER + *comp_n) != crc_of(buf, HEADER + *comp_n))
        return mbn_fail(MBN_EFAIL, "%s: checksum mismatch (file damaged)", label);
    if (*raw_n > MBN_CKPT_MAX_PAYLOAD || *raw_n > *comp_n * MAX_RATIO + 64 || *raw_n < 24)
        return mbn_fail(MBN_EFAIL, "%s: implausible payload size %llu (file damaged)", label,
                        (unsigned long long)*raw_n);
    return MBN_OK;
}

int mbn_ckpt_load_mem(const unsigned char *buf, size_t len, const char *label, MbnCheckpoint *ck) {
    memset(ck, 0, sizeof *ck);
    uint64_t raw_n = 0, comp_n = 0;
    MBN_TRY(check_container(buf, len, label, &raw_n, &comp_n));
    unsigned char *raw = malloc((size_t)raw_n);
    if (!raw)
        return mbn_fail(MBN_EFAIL, "%s: out of host memory (%llu bytes)", label,
                        (unsigned long long)raw_n);
    MbnCheckpoint tmp = {0};
    int rc = inflate_exact(buf + HEADER, comp_n, raw, raw_n, label);
    if (rc == MBN_OK) rc = parse_payload(raw, raw_n, label, &tmp);
    free(raw);
    if (rc) {
        mbn_ckpt_free(&tmp);
        return rc;
    }
    *ck = tmp;
    return MBN_OK;
}

int mbn_ckpt_load(const char *path, MbnCheckpoint *ck) {
    memset(ck, 0, sizeof *ck);
    unsigned char *buf;
    size_t len;
    /* Compressed data can exceed the payload a little (stored blocks). */
    MBN_TRY(
        mbn_read_file(path, MBN_CKPT_MAX_PAYLOAD + MBN_CKPT_MAX_PAYLOAD / 64 + 4096, &buf, &len));
    int rc = mbn_ckpt_load_mem(buf, len, path, ck);
    free(buf);
    return rc;
}
