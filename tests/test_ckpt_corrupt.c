/* Damaged checkpoints are refused cleanly, with one line naming the file: truncation at seeded
 * positions, 200 seeded single-bit flips and 100 random byte overwrites (each in a fresh copy:
 * every one must fail, never load), wrong magic, a newer format version, trailing bytes, and a
 * forged header announcing a huge payload (decompression bomb) with valid checksums. */
#include <math.h>
#include <zlib.h>

#include "tests/support/ckpt_sample.h"
#include "io/formats/checkpoint.h"

static char path[600];
static unsigned char *orig;
static size_t orig_len;

/* Writes the bytes under `path`, loads, and checks the load failed naming the file. */
static void expect_refused(const unsigned char *bytes, size_t len, const char *what,
                           const char *must_contain) {
    T_CHECK(t_write_file(path, bytes, len) == 0, "write %s", path);
    MbnCheckpoint ck;
    int rc = mbn_ckpt_load(path, &ck);
    T_CHECK(rc == MBN_EFAIL, "%s: damaged file loaded", what);
    T_CHECK(ck.tensors.count == 0 && ck.n_meta == 0 && ck.meta == NULL, "%s: half-loaded", what);
    const char *msg = mbn_last_error();
    T_CHECK(strncmp(msg, path, strlen(path)) == 0, "%s: error does not name the file: %s", what,
            msg);
    T_CHECK(strchr(msg, '\n') == NULL, "%s: error is more than one line", what);
    if (must_contain)
        T_CHECK(strstr(msg, must_contain) != NULL, "%s: expected \"%s\" in: %s", what, must_contain,
                msg);
    if (rc == MBN_OK) mbn_ckpt_free(&ck);
}

static void put32(unsigned char *p, uint32_t v) {
    for (int k = 0; k < 4; k++)
        p[k] = (unsigned char)(v >> (8 * k));
}
static void put64(unsigned char *p, uint64_t v) {
    for (int k = 0; k < 8; k++)
        p[k] = (unsigned char)(v >> (8 * k));
}
/* Recomputes the header CRC (bytes 36..39) and the trailer CRC so only the field under test is
 * "wrong". */
static void reseal(unsigned char *b, size_t len) {
    put32(b + 36, (uint32_t)crc32(0, b, 36));
    put32(b + len - 4, (uint32_t)crc32(0, b, (uInt)(len - 4)));
}

/* Wraps a hand-made payload in a valid container (as the fuzzer does), so the payload checks
 * are reached past the checksums. */
static unsigned char *wrap(const unsigned char *payload, size_t n, size_t *len) {
    uLongf comp = compressBound((uLong)n);
    unsigned char *f = malloc(44 + comp);
    compress2(f + 40, &comp, payload, (uLong)n, 1);
    memcpy(f, "MBNCKPT", 8);
    put32(f + 8, 1);
    put32(f + 12, 0);
    put64(f + 16, n);
    put64(f + 24, comp);
    put32(f + 32, 0);
    *len = 44 + comp;
    reseal(f, *len);
    return f;
}

typedef struct {
    unsigned char b[512];
    size_t n;
} Buf;
static void b_bytes(Buf *b, const void *p, size_t n) {
    memcpy(b->b + b->n, p, n);
    b->n += n;
}
static void b_u32(Buf *b, uint32_t v) {
    put32(b->b + b->n, v);
    b->n += 4;
}
static void b_config(Buf *b) {
    float alpha = 1.0f, eps = 1e-5f;
    b_bytes(b, &alpha, 4);
    b_u32(b, 224);
    b_u32(b, 1000);
    b_bytes(b, &eps, 4);
}
/* A scalar tensor entry. */
static void b_scalar(Buf *b, const char *name) {
    unsigned char hdr[2] = {(unsigned char)strlen(name), 0};
    b_bytes(b, hdr, 2);
    b_bytes(b, name, strlen(name));
    unsigned char nd[2] = {0, 0};
    b_bytes(b, nd, 2);
    b_u32(b, 0x3F800000u);
}
static void b_meta_int(Buf *b, const char *key) {
    unsigned char kl = (unsigned char)strlen(key), type = 0, v[8] = {1};
    b_bytes(b, &kl, 1);
    b_bytes(b, key, kl);
    b_bytes(b, &type, 1);
    b_bytes(b, v, 8);
}

static void payload_case(const Buf *b, bool ok, const char *what, const char *needle) {
    size_t len;
    unsigned char *f = wrap(b->b, b->n, &len);
    if (ok) {
        T_CHECK(t_write_file(path, f, len) == 0, "write");
        MbnCheckpoint ck;
        T_CHECK(mbn_ckpt_load(path, &ck) == MBN_OK, "%s: %s", what, mbn_last_error());
        mbn_ckpt_free(&ck);
    } else {
        expect_refused(f, len, what, needle);
    }
    free(f);
}

static void payload_cases(void) {
    Buf b = {0};
    b_config(&b);
    b_u32(&b, 2);
    b_scalar(&b, "w");
    b_scalar(&b, "v");
    b_u32(&b, 2);
    b_meta_int(&b, "epoch");
    b_meta_int(&b, "step");
    payload_case(&b, true, "hand-made payload", NULL);
    Buf extra = b;
    b_u32(&extra, 0);
    payload_case(&extra, false, "payload with extra bytes", "extra bytes after the payload");
    Buf short_ = b;
    short_.n -= 1;
    payload_case(&short_, false, "payload cut inside meta", "payload ends inside a meta value");

    Buf d = {0};
    b_config(&d);
    b_u32(&d, 2);
    b_scalar(&d, "w");
    b_scalar(&d, "w");
    b_u32(&d, 0);
    payload_case(&d, false, "duplicate tensor", "duplicate name w");

    Buf m = {0};
    b_config(&m);
    b_u32(&m, 0);
    b_u32(&m, 2);
    b_meta_int(&m, "epoch");
    b_meta_int(&m, "epoch");
    payload_case(&m, false, "duplicate meta key", "duplicate name epoch");

    Buf c = {0};
    float nan_alpha = NAN;
    b_bytes(&c, &nan_alpha, 4);
    b_u32(&c, 224);
    b_u32(&c, 1000);
    b_u32(&c, 0x3727C5ACu);
    b_u32(&c, 0);
    b_u32(&c, 0);
    payload_case(&c, false, "NaN alpha", "implausible model config");

    Buf big = {0};
    b_config(&big);
    b_u32(&big, 1);
    unsigned char hdr[2] = {1, 0};
    b_bytes(&big, hdr, 2);
    b_bytes(&big, "x", 1);
    unsigned char nd[2] = {2, 0};
    b_bytes(&big, nd, 2);
    unsigned char dims[16];
    put64(dims, (uint64_t)1 << 32);
    put64(dims + 8, (uint64_t)1 << 32);
    b_bytes(&big, dims, 16);
    b_u32(&big, 0);
    payload_case(&big, false, "2^64 elements", "shape larger than the file");

    Buf many = {0};
    b_config(&many);
    b_u32(&many, 0xFFFFFFFFu);
    b_u32(&many, 0);
    payload_case(&many, false, "4G tensors", "implausible tensor count");
}

int main(void) {
    char dir[64];
    t_tempdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/runs-x.ckpt", dir);
    MbnCheckpoint a;
    sample_checkpoint(&a, 1, 8);
    T_CHECK(mbn_ckpt_save(path, &a) == MBN_OK, "%s", mbn_last_error());
    orig = t_read_file(path, &orig_len);
    T_CHECK(orig && orig_len > 100, "saved file");
    if (!orig) return 1;
    unsigned char *copy = malloc(orig_len + 16);
    MbnRng rng;
    mbn_rng_seed(&rng, 20260511);

    /* Truncation: empty, inside the magic, inside the header, 10 seeded points, last byte. */
    size_t cuts[14] = {0, 3, 20, orig_len - 1};
    for (int k = 4; k < 14; k++)
        cuts[k] = (size_t)(mbn_rng_next(&rng) % orig_len);
    for (int k = 0; k < 14; k++) {
        char what[64];
        snprintf(what, sizeof what, "truncated to %zu", cuts[k]);
        expect_refused(orig, cuts[k], what, cuts[k] >= 8 ? "truncated" : NULL);
    }

    /* Single bit flips anywhere: CRC32 detects every one. */
    for (int k = 0; k < 200; k++) {
        memcpy(copy, orig, orig_len);
        size_t bit = (size_t)(mbn_rng_next(&rng) % (orig_len * 8));
        copy[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        char what[64];
        snprintf(what, sizeof what, "bit %zu flipped", bit);
        expect_refused(copy, orig_len, what, NULL);
    }
    /* Random overwrites of 1..8 bytes. */
    for (int k = 0; k < 100; k++) {
        memcpy(copy, orig, orig_len);
        int nb = 1 + (int)(mbn_rng_next(&rng) % 8);
        bool changed = false;
        for (int j = 0; j < nb; j++) {
            size_t at = (size_t)(mbn_rng_next(&rng) % orig_len);
            unsigned char v = (unsigned char)mbn_rng_next(&rng);
            changed |= copy[at] != v;
            copy[at] = v;
        }
        if (changed) expect_refused(copy, orig_len, "bytes overwritten", NULL);
    }
    /* A flip in the payload region reports a checksum mismatch. */
    memcpy(copy, orig, orig_len);
    copy[orig_len / 2] ^= 0x10;
    expect_refused(copy, orig_len, "payload flip", "checksum mismatch (file damaged)");

    /* Wrong magic (e.g. a safetensors file or text given by mistake). */
    memcpy(copy, orig, orig_len);
    memcpy(copy, "PK\x03\x04", 4);
    expect_refused(copy, orig_len, "wrong magic", "not an mbn checkpoint");
    expect_refused((const unsigned char *)"hello\n", 6, "text file", "not an mbn checkpoint");

    /* A newer format version with valid checksums: refused as newer, not as damaged. */
    memcpy(copy, orig, orig_len);
    put32(copy + 8, MBN_CKPT_VERSION + 1);
    reseal(copy, orig_len);
    expect_refused(copy, orig_len, "newer version", "format version 2 is newer");
    /* Unknown flags. */
    memcpy(copy, orig, orig_len);
    put32(copy + 12, 1);
    reseal(copy, orig_len);
    expect_refused(copy, orig_len, "flags", "unknown header flags");

    /* Trailing garbage after a complete file. */
    memcpy(copy, orig, orig_len);
    memset(copy + orig_len, 0, 16);
    expect_refused(copy, orig_len + 16, "trailing bytes", "unexpected bytes after the end");

    /* Decompression bomb: header claims 4 GiB uncompressed with all checksums valid. */
    memcpy(copy, orig, orig_len);
    put64(copy + 16, (uint64_t)4 << 30);
    reseal(copy, orig_len);
    expect_refused(copy, orig_len, "huge raw size", "implausible payload size");
    /* Raw size off by one (consistent checksums): zlib output does not match. */
    memcpy(copy, orig, orig_len);
    uint64_t raw = 0;
    for (int k = 7; k >= 0; k--)
        raw = raw << 8 | copy[16 + k];
    put64(copy + 16, raw - 1);
    reseal(copy, orig_len);
    expect_refused(copy, orig_len, "raw size - 1", "file damaged");
    put64(copy + 16, raw + 1);
    reseal(copy, orig_len);
    expect_refused(copy, orig_len, "raw size + 1", "file damaged");

    payload_cases();

    /* The original still loads and matches (the test harness itself is sound). */
    T_CHECK(t_write_file(path, orig, orig_len) == 0, "rewrite");
    MbnCheckpoint b;
    T_CHECK(mbn_ckpt_load(path, &b) == MBN_OK, "%s", mbn_last_error());
    T_CHECK(ckpt_diff(&a, &b) == NULL, "original differs");
    mbn_ckpt_free(&b);

    mbn_ckpt_free(&a);
    free(copy);
    free(orig);
    t_rmtree(dir);
    return t_summary("test_ckpt_corrupt");
}
