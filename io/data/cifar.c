/* CIFAR-10 binary batches: records of 1 label byte + 3072 pixel bytes (1024 R, 1024 G, 1024 B,
 * row-major 32x32). Train = data_batch_1..5.bin, val = test_batch.bin, in DIR or in
 * DIR/cifar-10-batches-bin. Pixels are converted to HWC on load. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/error.h"
#include "io/data/readers.h"
#include "io/formats/labels.h"

#define CIFAR_SIDE 32
#define CIFAR_PIXELS (CIFAR_SIDE * CIFAR_SIDE * 3)
#define CIFAR_RECORD (1 + CIFAR_PIXELS)
#define CIFAR_CLASSES 10
#define CIFAR_MAX_RECORDS 10000000LL

static const char *const CIFAR_NAMES[CIFAR_CLASSES] = {
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};

/* The folder holding the batches (dir or dir/cifar-10-batches-bin) into out, or false. */
static bool find_batches(const char *dir, char *out, size_t cap) {
    const char *subs[2] = {"", "cifar-10-batches-bin"};
    for (int i = 0; i < 2; i++) {
        char base[1100], probe[1200];
        if (i == 0)
            snprintf(base, sizeof base, "%s", dir);
        else if (mbn_path_join(base, sizeof base, dir, subs[i]) != MBN_OK)
            return false;
        if (mbn_path_join(probe, sizeof probe, base, "data_batch_1.bin") != MBN_OK) return false;
        bool found = mbn_is_file(probe);
        if (!found && mbn_path_join(probe, sizeof probe, base, "test_batch.bin") == MBN_OK)
            found = mbn_is_file(probe);
        if (found && strlen(base) < cap) {
            strcpy(out, base);
            return true;
        }
    }
    return false;
}

/* Appends every record of one batch file to ds (labels and HWC pixels). */
static int append_batch(MbnDataset *ds, const char *path) {
    struct stat st;
    if (stat(path, &st) != 0) return mbn_fail(MBN_EFAIL, "%s: %s", path, strerror(errno));
    if (st.st_size <= 0 || st.st_size % CIFAR_RECORD != 0)
        return mbn_fail(MBN_EFAIL, "%s: size %lld is not a positive multiple of %d-byte records",
                        path, (long long)st.st_size, CIFAR_RECORD);
    int64_t n = st.st_size / CIFAR_RECORD;
    if (ds->count + n > CIFAR_MAX_RECORDS) return mbn_fail(MBN_EFAIL, "%s: too many records", path);
    int64_t total = ds->count + n;
    int32_t *labels = realloc(ds->labels, sizeof(int32_t) * (size_t)total);
    if (labels) ds->labels = labels;
    uint8_t *pixels = realloc(ds->pixels, (size_t)CIFAR_PIXELS * (size_t)total);
    if (pixels) ds->pixels = pixels;
    if (!labels || !pixels) return mbn_fail(MBN_EFAIL, "%s: out of host memory", path);
    FILE *f = fopen(path, "rb");
    if (!f) return mbn_fail(MBN_EFAIL, "%s: cannot open: %s", path, strerror(errno));
    uint8_t rec[CIFAR_RECORD];
    int rc = MBN_OK;
    for (int64_t r = 0; r < n && rc == MBN_OK; r++) {
        if (fread(rec, 1, sizeof rec, f) != sizeof rec) {
            rc = mbn_fail(MBN_EFAIL, "%s: truncated at record %lld", path, (long long)r);
            break;
        }
        if (rec[0] >= CIFAR_CLASSES) {
            rc = mbn_fail(MBN_EFAIL, "%s: label %u of record %lld is out of range 0..9", path,
                          rec[0], (long long)r);
            break;
        }
        int64_t i = ds->count + r;
        ds->labels[i] = rec[0];
        uint8_t *dst = ds->pixels + (size_t)i * CIFAR_PIXELS;
        for (int p = 0; p < CIFAR_SIDE * CIFAR_SIDE; p++)
            for (int c = 0; c < 3; c++)
                dst[p * 3 + c] = rec[1 + c * CIFAR_SIDE * CIFAR_SIDE + p];
    }
    fclose(f);
    if (rc == MBN_OK) ds->count = total;
    return rc;
}

/* batches.meta.txt holds one class name per line; fall back to the standard names. */
static int read_class_names(MbnDataset *ds, const char *base) {
    char path[1200], **names = NULL;
    int n = 0;
    MBN_TRY(mbn_path_join(path, sizeof path, base, "batches.meta.txt"));
    if (mbn_is_file(path) && mbn_labels_read(path, &names, &n) == MBN_OK) {
        if (n >= CIFAR_CLASSES) {
            for (int i = CIFAR_CLASSES; i < n; i++)
                free(names[i]);
            ds->class_names = names;
            ds->num_classes = CIFAR_CLASSES;
            return MBN_OK;
        }
        mbn_labels_free(names, n);
    }
    ds->class_names = mbn_strings_dup(CIFAR_NAMES, CIFAR_CLASSES);
    if (!ds->class_names) return mbn_fail(MBN_EFAIL, "out of host memory");
    ds->num_classes = CIFAR_CLASSES;
    return MBN_OK;
}

static bool cifar_detect(const char *dir) {
    char base[1100];
    return find_batches(dir, base, sizeof base);
}

static int cifar_open(MbnDataset *ds) {
    char base[1100], path[1200];
    if (!find_batches(ds->root, base, sizeof base))
        return mbn_fail(MBN_EFAIL, "%s: no CIFAR-10 batches", ds->root);
    ds->height = ds->width = CIFAR_SIDE;
    ds->channels = 3;
    if (ds->split == MBN_SPLIT_VAL) {
        MBN_TRY(mbn_path_join(path, sizeof path, base, "test_batch.bin"));
        if (!mbn_is_file(path)) return mbn_fail(MBN_EFAIL, "%s: missing (val split)", path);
        MBN_TRY(append_batch(ds, path));
    } else {
        for (int b = 1; b <= 5; b++) {
            char name[32];
            snprintf(name, sizeof name, "data_batch_%d.bin", b);
            MBN_TRY(mbn_path_join(path, sizeof path, base, name));
            /* Tolerate a partial set (e.g. only data_batch_1 for quick runs), but say so. */
            if (!mbn_is_file(path)) {
                if (b == 1) return mbn_fail(MBN_EFAIL, "%s: missing (train split)", path);
                mbn_warn("%s: missing; training on data_batch_1..%d only", path, b - 1);
                break;
            }
            MBN_TRY(append_batch(ds, path));
        }
    }
    return read_class_names(ds, base);
}

const MbnDataReader mbn_reader_cifar10 = {"cifar10",
                                          cifar_detect,
                                          cifar_open,
                                          mbn_sample_in_memory,
                                          mbn_sample_in_memory_recorded,
                                          mbn_pipeline_in_memory};
