/* Damaged checkpoints are refused cleanly, with one line naming the file: truncation at seeded
 * positions, 200 seeded single-bit flips and 100 random byte overwrites (each in a fresh copy:
 * every one must fail, never load), wrong magic, a newer format version, trailing bytes, and a
 * forged header announcing a huge payload (decompression bomb) with valid checksums. */
#include <zlib.h>

#include "ckpt_sample.h"
#include "io/checkpoint.h"

static char path[600];
static unsigned char *orig;
static size_t orig_len;

/* Writes the bytes under `path`, loads, and checks the load failed naming the file. */
static void expect_refused(const unsigned char *bytes, size_t len, const char *what,
                           const char *must_contain) {
    CHECK(spill(path, bytes, len) == 0, "write %s", path);
    MbnCheckpoint ck;
    int rc = mbn_ckpt_load(path, &ck);
    CHECK(rc == MBN_EFAIL, "%s: damaged file loaded", what);
    CHECK(ck.tensors.count == 0 && ck.n_meta == 0 && ck.meta == NULL, "%s: half-loaded", what);
    const char *msg = mbn_last_error();
    CHECK(strncmp(msg, path, strlen(path)) == 0, "%s: error does not name the file: %s", what, msg);
    CHECK(strchr(msg, '\n') == NULL, "%s: error is more than one line", what);
    if (must_contain)
        CHECK(strstr(msg, must_contain) != NULL, "%s: expected \"%s\" in: %s", what, must_contain,
              msg);
    if (rc == MBN_OK) mbn_ckpt_free(&ck);
}

static void put32(unsigned char *p, uint32_t v) {
    for (int k = 0; k < 4; k++) p[k] = (unsigned char)(v >> (8 * k));
}
static void put64(unsigned char *p, uint64_t v) {
    for (int k = 0; k < 8; k++) p[k] = (unsigned char)(v >> (8 * k));
}
/* Recomputes the header CRC (bytes 36..39) and the trailer CRC so only the field under test is
 * "wrong". */
static void reseal(unsigned char *b, size_t len) {
    put32(b + 36, (uint32_t)crc32(0, b, 36));
    put32(b + len - 4, (uint32_t)crc32(0, b, (uInt)(len - 4)));
}

int main(void) {
    char dir[64];
    make_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/runs-x.ckpt", dir);
    MbnCheckpoint a;
    sample_checkpoint(&a, 1, 8);
    CHECK(mbn_ckpt_save(path, &a) == MBN_OK, "%s", mbn_last_error());
    orig = slurp(path, &orig_len);
    CHECK(orig && orig_len > 100, "saved file");
    if (!orig) return 1;
    unsigned char *copy = malloc(orig_len + 16);
    uint64_t seed = 20260511;

    /* Truncation: empty, inside the magic, inside the header, 10 seeded points, last byte. */
    size_t cuts[14] = {0, 3, 20, orig_len - 1};
    for (int k = 4; k < 14; k++) cuts[k] = (size_t)(rng_next(&seed) % orig_len);
    for (int k = 0; k < 14; k++) {
        char what[64];
        snprintf(what, sizeof what, "truncated to %zu", cuts[k]);
        expect_refused(orig, cuts[k], what, cuts[k] >= 8 ? "truncated" : NULL);
    }

    /* Single bit flips anywhere: CRC32 detects every one. */
    for (int k = 0; k < 200; k++) {
        memcpy(copy, orig, orig_len);
        size_t bit = (size_t)(rng_next(&seed) % (orig_len * 8));
        copy[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        char what[64];
        snprintf(what, sizeof what, "bit %zu flipped", bit);
        expect_refused(copy, orig_len, what, NULL);
    }
    /* Random overwrites of 1..8 bytes. */
    for (int k = 0; k < 100; k++) {
        memcpy(copy, orig, orig_len);
        int nb = 1 + (int)(rng_next(&seed) % 8);
        bool changed = false;
        for (int j = 0; j < nb; j++) {
            size_t at = (size_t)(rng_next(&seed) % orig_len);
            unsigned char v = (unsigned char)rng_next(&seed);
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
    for (int k = 7; k >= 0; k--) raw = raw << 8 | copy[16 + k];
    put64(copy + 16, raw - 1);
    reseal(copy, orig_len);
    expect_refused(copy, orig_len, "raw size - 1", "file damaged");
    put64(copy + 16, raw + 1);
    reseal(copy, orig_len);
    expect_refused(copy, orig_len, "raw size + 1", "file damaged");

    /* The original still loads and matches (the test harness itself is sound). */
    CHECK(spill(path, orig, orig_len) == 0, "rewrite");
    MbnCheckpoint b;
    CHECK(mbn_ckpt_load(path, &b) == MBN_OK, "%s", mbn_last_error());
    CHECK(ckpt_diff(&a, &b) == NULL, "original differs");
    mbn_ckpt_free(&b);

    mbn_ckpt_free(&a);
    free(copy);
    free(orig);
    rm_tree(dir);
    return test_summary("test_ckpt_corrupt");
}
