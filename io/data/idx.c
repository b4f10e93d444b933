/* MNIST-format IDX files (MNIST, Fashion-MNIST): DIR/{train,t10k}-{images-idx3,labels-idx1}-ubyte,
 * gzip-compressed (.gz) or raw. zlib's gzread reads both transparently, so one code path serves. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "base/error.h"
#include "io/data/readers.h"

#define IDX_MAX_COUNT 100000000LL /* no real IDX set is this big; bounds a forged header */
#define IDX_MAX_SIDE 4096
#define IDX_CLASSES 10

static const char *const FASHION_NAMES[IDX_CLASSES] = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
static const char *const DIGIT_NAMES[IDX_CLASSES] = {"0", "1", "2", "3", "4",
                                                     "5", "6", "7", "8", "9"};

/* Finds DIR/<stem> or DIR/<stem>.gz into path. */
static bool find_idx(const char *dir, const char *stem, char *path, size_t cap) {
    if (mbn_path_join(path, cap, dir, stem) != MBN_OK) return false;
    if (mbn_is_file(path)) return true;
    size_t n = strlen(path);
    if (n + 4 > cap) return false;
    strcat(path, ".gz");
    return mbn_is_file(path);
}

static bool idx_detect(const char *dir) {
    char p[1200];
    return find_idx(dir, "train-images-idx3-ubyte", p, sizeof p) ||
           find_idx(dir, "t10k-images-idx3-ubyte", p, sizeof p);
}

/* Reads exactly n bytes; a short read means a truncated or corrupt file. */
static int gz_read_all(gzFile f, const char *path, uint8_t *dst, size_t n) {
    while (n > 0) {
        unsigned chunk = n > (1u << 30) ? (1u << 30) : (unsigned)n;
        int got = gzread(f, dst, chunk);
        if (got <= 0) {
            int zerr = 0;
            const char *msg = gzerror(f, &zerr);
            if (got == 0 || zerr == Z_OK || zerr == Z_BUF_ERROR)
                return mbn_fail(MBN_EFAIL, "%s: truncated IDX file", path);
            return mbn_fail(MBN_EFAIL, "%s: read error: %s", path, msg);
        }
        dst += got;
        n -= (size_t)got;
    }
    return MBN_OK;
}

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Reads an IDX file of unsigned bytes with the expected number of dimensions; dims[0] is the
 * item count. */
static int read_idx(const char *path, int ndims, uint32_t *dims, uint8_t **data) {
    *data = NULL;
    gzFile f = gzopen(path, "rb");
    if (!f) return mbn_fail(MBN_EFAIL, "%s: cannot open", path);
    uint8_t head[16];
    int rc = gz_read_all(f, path, head, 4 + 4 * (size_t)ndims);
    uint32_t magic = rc == MBN_OK ? be32(head) : 0;
    if (rc == MBN_OK && magic != (0x0800u | (uint32_t)ndims))
        rc = mbn_fail(MBN_EFAIL,
                      "%s: bad IDX magic 0x%08x (expected 0x%08x: unsigned bytes, %d dims)", path,
                      magic, 0x0800u | (uint32_t)ndims, ndims);
    uint64_t total = 1;
    for (int i = 0; rc == MBN_OK && i < ndims; i++) {
        dims[i] = be32(head + 4 + 4 * i);
        uint32_t lim = i == 0 ? (uint32_t)IDX_MAX_COUNT : IDX_MAX_SIDE;
        if (dims[i] == 0 || dims[i] > lim)
            rc = mbn_fail(MBN_EFAIL, "%s: IDX dimension %d is %u (allowed 1..%u)", path, i, dims[i],
                          lim);
        total *= dims[i];
    }
    if (rc == MBN_OK && total > (uint64_t)IDX_MAX_COUNT * 64)
        rc = mbn_fail(MBN_EFAIL, "%s: IDX data too large", path);
    if (rc == MBN_OK) {
        *data = malloc((size_t)total);
        if (!*data) rc = mbn_fail(MBN_EFAIL, "%s: out of host memory", path);
    }
    if (rc == MBN_OK) rc = gz_read_all(f, path, *data, (size_t)total);
    gzclose(f);
    if (rc != MBN_OK) {
        free(*data);
        *data = NULL;
    }
    return rc;
}

static int read_labels(MbnDataset *ds, const char *path, uint32_t count) {
    uint32_t dims[1];
    uint8_t *raw;
    MBN_TRY(read_idx(path, 1, dims, &raw));
    int rc = MBN_OK;
    if (dims[0] != count)
        rc = mbn_fail(MBN_EFAIL, "%s: %u labels for %u images", path, dims[0], count);
    ds->labels = rc == MBN_OK ? malloc(sizeof(int32_t) * count) : NULL;
    if (rc == MBN_OK && !ds->labels) rc = mbn_fail(MBN_EFAIL, "%s: out of host memory", path);
    for (uint32_t i = 0; rc == MBN_OK && i < count; i++) {
        if (raw[i] >= IDX_CLASSES)
            rc = mbn_fail(MBN_EFAIL, "%s: label %u of item %u is out of range 0..%d", path, raw[i],
                          i, IDX_CLASSES - 1);
        else
            ds->labels[i] = raw[i];
    }
    free(raw);
    return rc;
}

/* Fashion-MNIST and MNIST share the format; the folder name is the only hint which it is. */
static bool looks_fashion(const char *root) {
    for (const char *p = root; *p; p++)
        if (strncasecmp(p, "fashion", 7) == 0) return true;
    return false;
}

static int idx_open(MbnDataset *ds) {
    const char *prefix = ds->split == MBN_SPLIT_TRAIN ? "train" : "t10k";
    char stem[64], img_path[1200], lab_path[1200];
    snprintf(stem, sizeof stem, "%s-images-idx3-ubyte", prefix);
    if (!find_idx(ds->root, stem, img_path, sizeof img_path))
        return mbn_fail(MBN_EFAIL, "%s: no %s[.gz] for the %s split", ds->root, stem,
                        ds->split == MBN_SPLIT_TRAIN ? "train" : "val");
    snprintf(stem, sizeof stem, "%s-labels-idx1-ubyte", prefix);
    if (!find_idx(ds->root, stem, lab_path, sizeof lab_path))
        return mbn_fail(MBN_EFAIL, "%s: no %s[.gz]", ds->root, stem);
    uint32_t dims[3];
    MBN_TRY(read_idx(img_path, 3, dims, &ds->pixels));
    ds->height = (int)dims[1];
    ds->width = (int)dims[2];
    ds->channels = 1;
    MBN_TRY(read_labels(ds, lab_path, dims[0]));
    ds->count = dims[0];
    ds->num_classes = IDX_CLASSES;
    ds->class_names =
        mbn_strings_dup(looks_fashion(ds->root) ? FASHION_NAMES : DIGIT_NAMES, IDX_CLASSES);
    if (!ds->class_names) return mbn_fail(MBN_EFAIL, "out of host memory");
    return MBN_OK;
}

const MbnDataReader mbn_reader_idx = {"idx",
                                      idx_detect,
                                      idx_open,
                                      mbn_sample_in_memory,
                                      mbn_sample_in_memory_recorded,
                                      mbn_pipeline_in_memory};
