/* IDX (MNIST format): the real Fashion-MNIST files from Debian's dataset-fashion-mnist, and small
 * synthetic files written here in raw and gzip form, good and broken. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "base/error.h"
#include "io/data/dataset.h"
#include "io/data/readers.h"
#include "tests/support/data_util.h"
#include "tests/support/testutil.h"

#define FASHION "/usr/share/datasets/fashion-mnist"

/* Reference values from an independent read with Python's gzip module:
 *   l = gzip.open(".../train-labels-idx1-ubyte.gz").read(); list(l[8:28])
 *   im = gzip.open(".../train-images-idx3-ubyte.gz").read(); sum(im[16:16+784]); sum(im[16:])
 * and the same for t10k. */
static const int TRAIN_LABELS[20] = {9, 0, 0, 3, 0, 2, 7, 2, 5, 5, 0, 9, 5, 5, 7, 9, 1, 0, 6, 4};
static const int TEST_LABELS[20] = {9, 2, 1, 1, 6, 1, 4, 6, 5, 7, 4, 5, 7, 3, 4, 1, 2, 4, 8, 0};

static void check_fashion(MbnSplit split, int64_t count, const int *labels, long first_sum,
                          unsigned long long total_sum) {
    MbnDataset *ds = NULL;
    int rc = mbn_dataset_open(FASHION, split, &ds);
    T_CHECK(rc == MBN_OK, "open %s: %s", FASHION, mbn_last_error());
    if (rc != MBN_OK) return;
    T_CHECK(ds->format == &mbn_reader_idx, "format %s", ds->format->name);
    T_CHECK(ds->count == count, "count %lld, expected %lld", (long long)ds->count,
            (long long)count);
    T_CHECK(ds->width == 28 && ds->height == 28 && ds->channels == 1, "shape %dx%dx%d", ds->height,
            ds->width, ds->channels);
    T_CHECK(ds->num_classes == 10, "num_classes %d", ds->num_classes);
    T_CHECK(!strcmp(ds->class_names[0], "T-shirt/top") && !strcmp(ds->class_names[9], "Ankle boot"),
            "fashion class names: %s .. %s", ds->class_names[0], ds->class_names[9]);
    for (int i = 0; i < 20; i++)
        T_CHECK(ds->labels[i] == labels[i], "label %d = %d", i, ds->labels[i]);
    long s = 0;
    for (int i = 0; i < 784; i++)
        s += ds->pixels[i];
    T_CHECK(s == first_sum, "first image pixel sum %ld, expected %ld", s, first_sum);
    unsigned long long t = 0;
    for (int64_t i = 0; i < ds->count * 784; i++)
        t += ds->pixels[i];
    T_CHECK(t == total_sum, "all pixels sum %llu, expected %llu", t, total_sum);
    mbn_dataset_free(ds);
}

static uint8_t *idx_bytes(uint32_t magic, int ndims, const uint32_t *dims, const uint8_t *data,
                          size_t n, size_t *size) {
    size_t head = 4 + 4 * (size_t)ndims;
    uint8_t *b = malloc(head + n);
    uint32_t words[4] = {magic, dims[0], ndims > 1 ? dims[1] : 0, ndims > 2 ? dims[2] : 0};
    for (int i = 0; i <= ndims; i++)
        for (int k = 0; k < 4; k++)
            b[4 * i + k] = (uint8_t)(words[i] >> (24 - 8 * k));
    memcpy(b + head, data, n);
    *size = head + n;
    return b;
}

static void write_gz(const char *path, const uint8_t *b, size_t n) {
    gzFile f = gzopen(path, "wb");
    T_CHECK(f && gzwrite(f, b, (unsigned)n) == (int)n, "gzwrite %s", path);
    if (f) gzclose(f);
}

/* Writes a 5-image 28x28 IDX pair; gz selects compression; bad_label/short_images break it. */
static void write_set(const char *dir, const char *prefix, bool gz, int label_value,
                      size_t cut_images) {
    uint8_t pix[5 * 784], lab[5];
    for (int i = 0; i < 5 * 784; i++)
        pix[i] = (uint8_t)(i * 7);
    for (int i = 0; i < 5; i++)
        lab[i] = (uint8_t)(i * 2);
    lab[4] = (uint8_t)label_value;
    uint32_t idims[3] = {5, 28, 28}, ldims[1] = {5};
    size_t ni, nl;
    uint8_t *bi = idx_bytes(0x803, 3, idims, pix, sizeof pix, &ni);
    uint8_t *bl = idx_bytes(0x801, 1, ldims, lab, sizeof lab, &nl);
    ni -= cut_images;
    const char *ext = gz ? ".gz" : "";
    const char *pi = t_path("%s/%s-images-idx3-ubyte%s", dir, prefix, ext);
    const char *pl = t_path("%s/%s-labels-idx1-ubyte%s", dir, prefix, ext);
    if (gz) {
        write_gz(pi, bi, ni);
        write_gz(pl, bl, nl);
    } else {
        T_CHECK(t_write_file(pi, bi, ni) == 0 && t_write_file(pl, bl, nl) == 0, "write %s", pi);
    }
    free(bi);
    free(bl);
}

static void check_synthetic(bool gz) {
    char dir[64];
    t_tempdir(dir, sizeof dir);
    write_set(dir, "train", gz, 9, 0);
    MbnDataset *ds = NULL;
    int rc = mbn_dataset_open(dir, MBN_SPLIT_TRAIN, &ds);
    T_CHECK(rc == MBN_OK, "%s synthetic: %s", gz ? "gz" : "raw", mbn_last_error());
    if (ds) {
        T_CHECK(ds->count == 5 && ds->labels[1] == 2 && ds->labels[4] == 9, "labels");
        T_CHECK(ds->pixels[784 + 3] == (uint8_t)((784 + 3) * 7), "pixel");
        T_CHECK(!strcmp(ds->class_names[3], "3"), "digit names outside a fashion folder: %s",
                ds->class_names[3]);
        mbn_dataset_free(ds);
    }
    /* No t10k files: the val split is a clear error. */
    rc = mbn_dataset_open(dir, MBN_SPLIT_VAL, &ds);
    T_CHECK(rc == MBN_EFAIL && strstr(mbn_last_error(), "t10k-images"), "missing val: %s",
            mbn_last_error());
    t_rmtree(dir);
}

static void check_broken(const char *what, int label_value, size_t cut, const char *expect) {
    char dir[64];
    t_tempdir(dir, sizeof dir);
    write_set(dir, "train", true, label_value, cut);
    MbnDataset *ds = NULL;
    int rc = mbn_dataset_open(dir, MBN_SPLIT_TRAIN, &ds);
    T_CHECK(rc == MBN_EFAIL && !ds && strstr(mbn_last_error(), expect) &&
                strstr(mbn_last_error(), dir),
            "%s: rc %d, message '%s' should contain '%s' and the path", what, rc, mbn_last_error(),
            expect);
    mbn_dataset_free(ds);
    t_rmtree(dir);
}

static void check_bad_magic(void) {
    char dir[64];
    t_tempdir(dir, sizeof dir);
    write_set(dir, "train", false, 1, 0);
    /* Labels file where the images file should be: magic 0x801, not 0x803. */
    const char *pi = t_path("%s/train-images-idx3-ubyte", dir);
    const char *pl = t_path("%s/train-labels-idx1-ubyte", dir);
    uint8_t junk[64] = {0, 0, 8, 1, 0, 0, 0, 5};
    T_CHECK(t_write_file(pi, junk, sizeof junk) == 0, "write");
    MbnDataset *ds = NULL;
    int rc = mbn_dataset_open(dir, MBN_SPLIT_TRAIN, &ds);
    T_CHECK(rc == MBN_EFAIL && strstr(mbn_last_error(), "magic"), "bad magic: %s",
            mbn_last_error());
    /* Dimension 0 (count) of 0. */
    uint8_t zero[16] = {0, 0, 8, 3, 0, 0, 0, 0, 0, 0, 0, 28, 0, 0, 0, 28};
    T_CHECK(t_write_file(pi, zero, sizeof zero) == 0, "write");
    rc = mbn_dataset_open(dir, MBN_SPLIT_TRAIN, &ds);
    T_CHECK(rc == MBN_EFAIL && strstr(mbn_last_error(), "dimension"), "zero count: %s",
            mbn_last_error());
    /* A huge forged count fails on the read, not with a giant allocation crash. */
    uint8_t huge[16] = {0, 0, 8, 3, 0x05, 0xf5, 0xe1, 0x00, 0, 0, 0x10, 0, 0, 0, 0x10, 0};
    T_CHECK(t_write_file(pi, huge, sizeof huge) == 0, "write");
    rc = mbn_dataset_open(dir, MBN_SPLIT_TRAIN, &ds);
    T_CHECK(rc == MBN_EFAIL, "huge header accepted");
    (void)pl;
    t_rmtree(dir);
}

int main(void) {
    if (access(FASHION "/train-images-idx3-ubyte.gz", R_OK) == 0) {
        check_fashion(MBN_SPLIT_TRAIN, 60000, TRAIN_LABELS, 76247, 3431114169ull);
        check_fashion(MBN_SPLIT_VAL, 10000, TEST_LABELS, 33456, 573469082ull);
    } else {
        T_CHECK(0, "%s not installed (Debian package dataset-fashion-mnist)", FASHION);
    }
    check_synthetic(false);
    check_synthetic(true);
    check_broken("label out of range", 10, 0, "out of range");
    check_broken("truncated images", 3, 100, "truncated");
    check_bad_magic();
    return t_summary("test_data_idx");
}
