/* CIFAR-10 binary batches written here (CHW records -> HWC images, labels, class names from
 * batches.meta.txt, the cifar-10-batches-bin subfolder, broken files) and the labels file. */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "io/data/augment.h"
#include "io/data/dataset.h"
#include "io/data/readers.h"
#include "io/formats/labels.h"
#include "tests/support/data_util.h"
#include "tests/support/testutil.h"

#define REC 3073

/* Record r: label (r % 10), channel c of pixel p = (r * 31 + c * 101 + p) & 255. */
static void write_batch(const char *path, int records, int bad_label_at, size_t cut) {
    uint8_t *b = malloc((size_t)records * REC);
    for (int r = 0; r < records; r++) {
        uint8_t *rec = b + (size_t)r * REC;
        rec[0] = (uint8_t)(r == bad_label_at ? 10 : r % 10);
        for (int c = 0; c < 3; c++)
            for (int p = 0; p < 1024; p++)
                rec[1 + c * 1024 + p] = (uint8_t)((r * 31 + c * 101 + p) & 255);
    }
    T_CHECK(t_write_file(path, b, (size_t)records * REC - cut) == 0, "write %s", path);
    free(b);
}

static void check_layout(bool subfolder) {
    char root[64];
    t_tempdir(root, sizeof root);
    const char *dir = subfolder ? t_path("%s/cifar-10-batches-bin", root) : root;
    T_CHECK(t_mkdirs(dir) == 0, "mkdir %s", dir);
    write_batch(t_path("%s/data_batch_1.bin", dir), 7, -1, 0);
    write_batch(t_path("%s/data_batch_2.bin", dir), 3, -1, 0);
    write_batch(t_path("%s/test_batch.bin", dir), 4, -1, 0);
    const char *meta = "a0\na1\na2\na3\na4\na5\na6\na7\na8\na9\n\n";
    if (subfolder)
        T_CHECK(t_write_file(t_path("%s/batches.meta.txt", dir), meta, strlen(meta)) == 0, "meta");
    MbnDataset *ds = NULL;
    int rc = mbn_dataset_open(root, MBN_SPLIT_TRAIN, &ds);
    T_CHECK(rc == MBN_OK, "open: %s", mbn_last_error());
    if (ds) {
        T_CHECK(ds->format == &mbn_reader_cifar10 && ds->count == 10, "format %s count %lld",
                ds->format->name, (long long)ds->count);
        T_CHECK(ds->labels[8] == 1, "record 8 = batch 2 record 1: label %d", ds->labels[8]);
        /* HWC: pixel p=5 of record 2, channel 1 */
        T_CHECK(ds->pixels[2 * 3072 + 5 * 3 + 1] == ((2 * 31 + 101 + 5) & 255), "HWC transpose");
        T_CHECK(!strcmp(ds->class_names[3], subfolder ? "a3" : "cat"), "class name %s",
                ds->class_names[3]);
        /* CIFAR at res 32 is the image itself, normalised. */
        float out[32 * 32 * 3];
        T_CHECK(mbn_augment_small(ds->pixels, 32, 32, 3, 32, out) == MBN_OK, "augment");
        float want = (ds->pixels[100 * 3 + 2] / 255.f - 0.406f) / 0.225f;
        T_CHECK(fabsf(out[100 * 3 + 2] - want) < 1e-5f, "normalised %f vs %f", out[302], want);
        mbn_dataset_free(ds);
    }
    rc = mbn_dataset_open(root, MBN_SPLIT_VAL, &ds);
    T_CHECK(rc == MBN_OK && ds && ds->count == 4, "val: %s", mbn_last_error());
    mbn_dataset_free(ds);
    t_rmtree(root);
}

static void check_broken(int bad_label_at, size_t cut, const char *expect) {
    char dir[64];
    t_tempdir(dir, sizeof dir);
    write_batch(t_path("%s/data_batch_1.bin", dir), 3, bad_label_at, cut);
    MbnDataset *ds = NULL;
    int rc = mbn_dataset_open(dir, MBN_SPLIT_TRAIN, &ds);
    T_CHECK(rc == MBN_EFAIL && strstr(mbn_last_error(), expect) &&
                strstr(mbn_last_error(), "data_batch_1.bin"),
            "rc %d '%s' should mention '%s'", rc, mbn_last_error(), expect);
    mbn_dataset_free(ds);
    rc = mbn_dataset_open(dir, MBN_SPLIT_VAL, &ds);
    T_CHECK(rc == MBN_EFAIL && strstr(mbn_last_error(), "test_batch.bin"), "no val: %s",
            mbn_last_error());
    t_rmtree(dir);
}

static void check_labels_file(void) {
    char dir[64];
    t_tempdir(dir, sizeof dir);
    char *names[3] = {"T-shirt/top", "Ankle boot", "ünïcode"};
    const char *p = t_path("%s/labels.txt", dir);
    T_CHECK(mbn_labels_write(p, names, 3) == MBN_OK, "write: %s", mbn_last_error());
    char **got = NULL;
    int n = 0;
    T_CHECK(mbn_labels_read(p, &got, &n) == MBN_OK && n == 3, "read: %s", mbn_last_error());
    for (int i = 0; i < n && i < 3; i++)
        T_CHECK(!strcmp(got[i], names[i]), "name %d: %s", i, got[i]);
    mbn_labels_free(got, n);
    T_CHECK(t_write_file(p, "a\r\nb\r\n", 6) == 0, "write crlf");
    T_CHECK(mbn_labels_read(p, &got, &n) == MBN_OK && n == 2 && !strcmp(got[1], "b"), "CRLF");
    mbn_labels_free(got, n);
    char *bad[1] = {"two\nlines"};
    T_CHECK(mbn_labels_write(p, bad, 1) == MBN_EFAIL, "a name with a newline is refused");
    T_CHECK(mbn_labels_read(t_path("%s/missing.txt", dir), &got, &n) == MBN_EUSAGE &&
                strstr(mbn_last_error(), "missing.txt"),
            "missing file: %s", mbn_last_error());
    T_CHECK(t_write_file(p, "", 0) == 0, "empty");
    T_CHECK(mbn_labels_read(p, &got, &n) == MBN_EFAIL, "empty labels file refused");
    t_rmtree(dir);
}

int main(void) {
    check_layout(false);
    check_layout(true);
    check_broken(1, 0, "out of range");
    check_broken(-1, 5, "multiple");
    check_labels_file();
    return t_summary("test_data_cifar");
}
